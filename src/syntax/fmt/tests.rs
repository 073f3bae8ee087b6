//! Unit tests of the formatter's layout rules, comment placement and idempotence.

use aksform_testkit::stacks::SHOP;

use super::*;

fn fmt(text: &str) -> String {
    match format_source(FileId(0), text) {
        Ok(out) => out,
        Err(diagnostics) => panic!("does not parse:\n{text}\n{diagnostics:#?}"),
    }
}

/// Formats `input`, compares with `expected`, and checks that `expected` is a fixed point.
#[track_caller]
fn assert_fmt(input: &str, expected: &str) {
    let once = fmt(input);
    assert_eq!(once, expected, "\n--- got ---\n{once}--- expected ---\n{expected}");
    assert_eq!(fmt(&once), once, "not idempotent");
}

#[track_caller]
fn assert_canonical(text: &str) {
    assert_fmt(text, text);
}

#[test]
fn shop_stack() {
    let once = fmt(SHOP);
    assert_eq!(fmt(&once), once);
    insta::assert_snapshot!(once);
}

#[test]
fn messy_stack() {
    let messy = r#"
# shop, written in a hurry


stack   "shop-prod"{
subscription=env( "AZURE_SUBSCRIPTION_ID" )  # from the pipeline
    location    =westeurope }
resource_group "shop"   {  }
vnet "shop" { resource_group = resource_group.shop
  address_space = [ 10.20.0.0/16 ,10.30.0.0/16, ]


  subnet "nodes" { prefix = 10.20.0.0/22 }   // system and apps pools
  subnet "ilb"   { prefix = 10.20.8.0/24 }
  peering "hub" { remote = vnet.hub   allow_forwarded_traffic = true }

}
service "web" { namespace = namespace.shop  type = load_balancer { public_ip = public_ip.web }
  selector = { app = "web"  tier = "front" }   port http  80  -> 8080
  port https 443->8443 }
"#;
    let once = fmt(messy);
    assert_eq!(fmt(&once), once);
    insta::assert_snapshot!(once);
}

#[test]
fn long_values_and_comments() {
    let text = r#"cluster "shop" {
  # Pools are sized for the autumn sale.
  node_pool "apps" {
    vm_size = "Standard_D8s_v5"
    zones = [1, 2, 3]
    labels = { workload = "apps"  team = "shop"  tier = "back"  cost-center = "4711" }
    taints = ["dedicated=apps:NoSchedule", "spot=false:NoSchedule", "gpu=absent:NoSchedule", "zone=any:PreferNoSchedule"]
  }
  authorized_ip_ranges = [
    203.0.113.0/24, # office
    198.51.100.0/24, # VPN
  ]
  network azure_cni overlay {
    pod_cidr = 10.244.0.0/16
    outbound = load_balancer { managed_outbound_ips = 2  idle_timeout = 30  ports_per_node = 1024  backend = "x" }
  }
}
"#;
    let once = fmt(text);
    assert_eq!(fmt(&once), once);
    insta::assert_snapshot!(once);
}

#[test]
fn indents_two_spaces_per_level() {
    assert_fmt("a {\nb {\nc = 1\n}\n}\n", "a {\n  b {\n    c = 1\n  }\n}\n");
    assert_fmt("a {\n\t\tc = 1\n}\n", "a {\n  c = 1\n}\n");
}

#[test]
fn top_level_blocks_are_separated_by_one_blank_line() {
    assert_fmt("a {}\nb {}\n\n\n\nc {}\n", "a {}\n\nb {}\n\nc {}\n");
    assert_fmt("x = 1\na {}\ny = 2\n", "x = 1\n\na {}\n\ny = 2\n");
    // The blank line goes above the comments that belong to the next block.
    assert_fmt("a {}\n# about b\nb {}\n", "a {}\n\n# about b\nb {}\n");
}

#[test]
fn top_level_attributes_keep_their_grouping() {
    assert_fmt("a = 1\nbb = 2\n\n\nccc = 3\n", "a  = 1\nbb = 2\n\nccc = 3\n");
}

#[test]
fn blank_lines_in_bodies_collapse_and_never_touch_braces() {
    assert_fmt("a {\n\n\n  x = 1\n\n\n\n  y = 2\n\n}\n", "a {\n  x = 1\n\n  y = 2\n}\n");
    assert_fmt("a {\n\n  # c\n  x = 1\n}\n", "a {\n  # c\n  x = 1\n}\n");
}

#[test]
fn one_item_per_line_in_block_bodies() {
    assert_fmt("a { x = 1  y = 2  b {} }\n", "a {\n  x = 1\n  y = 2\n  b {}\n}\n");
    assert_fmt(
        "service \"s\" { port http 80\n  port https 443 {} }\n",
        "service \"s\" {\n  port http 80\n  port https 443 {}\n}\n",
    );
    // On one line, the second `port` is a label of the first block; it stays one.
    assert_fmt("a { port http 80  port https 443 }\n", "a {\n  port http 80 port https 443\n}\n");
}

#[test]
fn equals_signs_align_within_a_run() {
    assert_canonical("a {\n  x      = 1\n  longer = 2\n}\n");
    // A blank line, a block, a comment line or a multi-line attribute ends the run.
    assert_fmt(
        "a {\n  x = 1\n  longer = 2\n\n  y = 3\n  b {}\n  zz = 4\n  # note\n  yyyyy = 5\n  q = 6\n}\n",
        "a {\n  x      = 1\n  longer = 2\n\n  y = 3\n  b {}\n  zz = 4\n  # note\n  yyyyy = 5\n  q     = 6\n}\n",
    );
    assert_fmt(
        "a {\n  x = 1\n  map = { a = 1  b = 2  c = 3  d = 4 }\n  long_name = 2\n  y = 3\n}\n",
        "a {\n  x = 1\n  map = {\n    a = 1\n    b = 2\n    c = 3\n    d = 4\n  }\n  long_name = 2\n  y         = 3\n}\n",
    );
    // A trailing comment does not end the run.
    assert_canonical("a {\n  x      = 1 # one\n  longer = 2\n}\n");
}

#[test]
fn an_attribute_that_would_overflow_once_aligned_leaves_the_run() {
    let elements = (0..7).map(|i| format!("10.{i}.0.0/16")).collect::<Vec<_>>().join(", ");
    // Fits at column 6, not at column 6 + 20.
    let list = format!("[{elements}]");
    assert!(2 + 4 + list.len() <= 100 && 2 + 23 + list.len() > 100, "{}", list.len());
    let input = format!("a {{\n  r = {list}\n  a_twenty_char_key_x = 1\n}}\n");
    assert_canonical(&input);
}

#[test]
fn empty_bodies_close_on_the_same_line() {
    assert_fmt("resource_group \"shop\" {\n\n}\n", "resource_group \"shop\" {}\n");
    assert_fmt("a = { }\nb = load_balancer {\n}\n", "a = {}\nb = load_balancer {}\n");
    assert_fmt("a = [ ]\n", "a = []\n");
}

#[test]
fn labels_stay_on_the_keyword_line_with_one_space() {
    assert_fmt("port   http\t80   ->8080\n", "port http 80 -> 8080\n");
    assert_fmt("network azure_cni overlay\n{\n}\n", "network azure_cni overlay {}\n");
}

#[test]
fn lists_inline_when_they_fit_and_have_no_comments() {
    assert_fmt("a = [\n  1,\n  2\n]\n", "a = [1, 2]\n");
    assert_fmt("a = [1, # one\n 2]\n", "a = [\n  1, # one\n  2,\n]\n");
    let long: Vec<String> = (0..20).map(|i| format!("\"name-{i}\"")).collect();
    let expected = format!("a = [\n{}]\n", long.iter().map(|e| format!("  {e},\n")).collect::<String>());
    assert_fmt(&format!("a = [{}]\n", long.join(", ")), &expected);
}

#[test]
fn nested_lists_break_from_the_outside_in() {
    let inner: Vec<String> = (0..6).map(|i| format!("\"element-number-{i}\"")).collect();
    let inner = format!("[{}]", inner.join(", "));
    let input = format!("a = [{inner}, [1, 2]]\n");
    let once = fmt(&input);
    assert!(once.contains("\n  [1, 2],\n"), "{once}");
    assert_eq!(fmt(&once), once);
}

#[test]
fn maps_inline_up_to_three_plain_entries() {
    assert_fmt("a = {\n  x = 1\n  y = \"two\"\n}\n", "a = { x = 1, y = \"two\" }\n");
    assert_fmt("a = { x = 1  y = 2  z = 3 }\n", "a = { x = 1, y = 2, z = 3 }\n");
    assert_fmt("a = { x = 1, y = 2, }\n", "a = { x = 1, y = 2 }\n");
    assert_fmt(
        "t = load_balancer internal { ip = 10.0.0.4  subnet = x.y }\n",
        "t = load_balancer internal { ip = 10.0.0.4  subnet = x.y }\n",
    );
    assert_fmt("a = { w = 1 x = 1  y = 2  z = 3 }\n", "a = {\n  w = 1\n  x = 1\n  y = 2\n  z = 3\n}\n");
    assert_fmt("a = { x = { y = 1 } }\n", "a = {\n  x = { y = 1 }\n}\n");
    assert_fmt("a = { x = 1 # one\n }\n", "a = {\n  x = 1 # one\n}\n");
    assert_fmt("a = { port http 80 }\n", "a = {\n  port http 80\n}\n");
    assert_fmt("a = { x = [1, 2] }\n", "a = { x = [1, 2] }\n");
    let long = "x".repeat(90);
    assert_fmt(&format!("a = {{ k = \"{long}\" }}\n"), &format!("a = {{\n  k = \"{long}\"\n}}\n"));
}

#[test]
fn constructors_follow_the_map_rule() {
    assert_canonical("a = load_balancer internal { subnet = vnet.shop.subnet.ilb  ip = 10.20.8.10 }\n");
    assert_fmt(
        "a = load_balancer internal { a = 1  b = 2  c = 3  d = 4 }\n",
        "a = load_balancer internal {\n  a = 1\n  b = 2\n  c = 3\n  d = 4\n}\n",
    );
    assert_canonical("a = external_name \"billing.example.com\"\n");
    assert_fmt("a = load_balancer{ip=10.0.0.4}\n", "a = load_balancer { ip = 10.0.0.4 }\n");
}

#[test]
fn strings_are_escaped_canonically() {
    assert_fmt("a = \"tab\there\"\n", "a = \"tab\\there\"\n");
    assert_canonical("a = \"q\\\" b\\\\ n\\n t\\t é #not // a comment\"\n");
}

#[test]
fn keys_and_segments_are_quoted_only_when_needed() {
    assert_fmt("\"plain\" = 1\n", "plain = 1\n");
    assert_canonical("\"app.kubernetes.io/name\" = 1\n");
    assert_canonical("\"trailing-\" = 1\n");
    assert_canonical("\"a--b\" = 1\n");
    assert_canonical("\"\" = 1\n");
    assert_canonical("\"9lives\" = 1\n");
    assert_fmt("a = dns_zone.\"zone\".\"example.com\"\n", "a = dns_zone.zone.\"example.com\"\n");
    assert_canonical("a = service.web:http\n");
}

#[test]
fn literals_print_as_parsed() {
    assert_fmt("a = 007\n", "a = 7\n");
    assert_canonical("a = [10.0.0.10, 10.0.0.0/16, 3..20, 53/udp, 80 -> 8080, true, false, kubenet]\n");
    assert_canonical("a = f()\nb = env(\"X\", 1)\n");
}

#[test]
fn output_ends_with_one_newline_and_has_no_trailing_spaces() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("\n\n  \n"), "");
    assert_eq!(fmt("a = 1"), "a = 1\n");
    assert_eq!(fmt("a = 1\n\n\n"), "a = 1\n");
    assert_eq!(fmt("# only a comment   \n\n"), "# only a comment\n");
    let once = fmt(SHOP);
    assert!(once.lines().all(|l| !l.ends_with(' ')), "{once}");
}

#[test]
fn windows_line_endings_become_newlines() {
    assert_fmt("# a\r\na = 1\r\n\r\nb {\r\n  c = 2 // c\r\n}\r\n", "# a\na = 1\n\nb {\n  c = 2 // c\n}\n");
}

#[test]
fn leading_and_trailing_comments_stay_with_their_item() {
    assert_canonical("# about a\na = 1 # after a\n// about b\nb = 2 /* after b */\n");
    assert_canonical("a {\n  # about x\n  x = 1 # after x\n} # after a\n");
}

#[test]
fn comments_on_the_opening_line_stay_there() {
    assert_canonical("network azure_cni { # or kubenet\n  x = 1\n}\n");
    assert_canonical("a = [ # addresses\n  1,\n]\n");
    assert_fmt("a { # nothing yet\n}\n", "a { # nothing yet\n}\n");
}

#[test]
fn comments_at_the_end_of_a_body_stay_before_the_brace() {
    assert_canonical("a {\n  x = 1\n\n  # later: y\n}\n");
    assert_canonical("a {\n  # nothing yet\n}\n");
    assert_fmt("a = 1\n\n\n# end of file\n", "a = 1\n\n# end of file\n");
}

#[test]
fn comments_in_lists_stay_with_their_element() {
    assert_fmt(
        "a = [\n  # first\n  1, # one\n\n  2 /* two */, 3\n  # last\n]\n",
        "a = [\n  # first\n  1, # one\n\n  2, /* two */\n  3,\n  # last\n]\n",
    );
}

#[test]
fn comments_inside_one_line_values_move_above_their_item() {
    assert_fmt("a = /* why */ 1\n", "/* why */\na = 1\n");
    assert_fmt("a # why\n = 1\n", "# why\na = 1\n");
    assert_fmt("a = f(1, # first\n 2)\n", "# first\na = f(1, 2)\n");
    assert_fmt("port f(1 /* c */) {}\n", "/* c */\nport f(1) {}\n");
    // In a list the comment moves above its element, not above the attribute.
    assert_fmt("a = [f(/* c */ 1), 2]\n", "a = [\n  /* c */\n  f(1),\n  2,\n]\n");
}

#[test]
fn block_comments_keep_their_text() {
    assert_fmt("a {\n      /* one\n   two */\n  x = 1\n}\n", "a {\n  /* one\n   two */\n  x = 1\n}\n");
    assert_fmt("/* a */ /* b */\nx = 1 /* c\nd */\ny = 2\n", "/* a */\n/* b */\nx = 1 /* c\nd */\ny = 2\n");
}

#[test]
fn every_comment_is_kept() {
    let text = "# 1\na /* 2 */ = /* 3 */ [ /* 4 */ 1 /* 5 */, f(/* 6 */) /* 7 */ ] /* 8 */ # 9\nb { /* 10 */ } // 11\n";
    let once = fmt(text);
    for n in 1..=11 {
        let kept = [format!("/* {n} */"), format!("# {n}\n"), format!("// {n}\n")].iter().any(|c| once.contains(c));
        assert!(kept, "{n} lost:\n{once}");
    }
    assert_eq!(fmt(&once), once);
}

#[test]
fn syntax_errors_are_returned_and_nothing_is_formatted() {
    let Err(diagnostics) = format_source(FileId(0), "a {\n  x = \n}\n") else { panic!("formatted a broken file") };
    assert!(diagnostics.iter().any(Diagnostic::is_error));
    assert!(format_source(FileId(0), "a = 10.0.0.1/16\n").is_err());
}
