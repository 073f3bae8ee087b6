//! The parser's unit tests: literals, blocks and labels, references, errors and recovery,
//! the nesting limit and comments.

use super::*;

fn parse(text: &str) -> (File, Vec<Diagnostic>) {
    parse_file(FileId(0), text)
}

fn ok(text: &str) -> File {
    let (file, diagnostics) = parse(text);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    file
}

fn only_block(text: &str) -> Block {
    match ok(text).items.into_iter().next() {
        Some(Item::Block(b)) => b,
        other => panic!("not a block: {other:?}"),
    }
}

fn attribute_value(block: &Block, key: &str) -> ExprKind {
    block
        .body
        .iter()
        .flat_map(|b| &b.items)
        .find_map(|i| match i {
            Item::Attribute(a) if a.key.name == key => Some(a.value.kind.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no attribute {key}"))
}

#[test]
fn parses_network_literals() {
    let b = only_block(
        "vnet \"shop\" {\n  space = [10.20.0.0/16, 10.30.0.0/16]\n  dns = 10.0.0.10\n  range = 3..20\n  port = 53/udp\n}\n",
    );
    assert_eq!(
        attribute_value(&b, "space"),
        ExprKind::List(vec![
            Expr { kind: ExprKind::Cidr("10.20.0.0/16".parse().unwrap()), span: Span::new(FileId(0), 25, 37) },
            Expr { kind: ExprKind::Cidr("10.30.0.0/16".parse().unwrap()), span: Span::new(FileId(0), 39, 51) },
        ])
    );
    assert_eq!(attribute_value(&b, "dns"), ExprKind::Ip("10.0.0.10".parse().unwrap()));
    assert_eq!(attribute_value(&b, "range"), ExprKind::Range { start: 3, end: 20 });
    assert!(matches!(attribute_value(&b, "port"), ExprKind::PortProtocol { port: 53, .. }));
}

#[test]
fn block_labels_stay_on_their_line() {
    let b = only_block("service \"web\" {\n  port http 80 -> 8080\n  port https 443\n}\n");
    let body = b.body.unwrap();
    assert_eq!(body.items.len(), 2);
    let Item::Block(first) = &body.items[0] else { panic!() };
    assert_eq!(first.labels.len(), 2);
    assert!(matches!(first.labels[1].kind, ExprKind::Mapping { .. }));
}

#[test]
fn constructors_stop_before_the_next_attribute() {
    let b = only_block("service \"c\" { type = cluster_ip  selector = { app = \"redis\" } }");
    assert_eq!(attribute_value(&b, "type"), ExprKind::Word("cluster_ip".into()));
    let b = only_block("service \"c\" { type = load_balancer internal { ip = 10.0.0.4 }  port = 1 }");
    let ExprKind::Constructor { name, args, body } = attribute_value(&b, "type") else { panic!() };
    assert_eq!(name.name, "load_balancer");
    assert_eq!(args.len(), 1);
    assert_eq!(body.unwrap().items.len(), 1);
}

#[test]
fn a_word_never_swallows_the_next_block_on_its_line() {
    for text in ["service \"s\" { type = node_port  port dns 53 }", "service \"s\" { type = node_port\n  port dns 53 }"]
    {
        let b = only_block(text);
        assert_eq!(attribute_value(&b, "type"), ExprKind::Word("node_port".into()));
        assert_eq!(b.body.map(|b| b.items.len()), Some(2));
    }
}

#[test]
fn references_with_quoted_segments_and_ports() {
    let b = only_block("x \"y\" { zone = dns_zone.\"example.com\"  backend = service.web:http }");
    let ExprKind::Reference(r) = attribute_value(&b, "zone") else { panic!() };
    assert_eq!(r.names().collect::<Vec<_>>(), ["dns_zone", "example.com"]);
    let ExprKind::Reference(r) = attribute_value(&b, "backend") else { panic!() };
    assert_eq!(r.port.unwrap().name, "http");
}

#[test]
fn host_bits_are_reported_with_the_fix() {
    let (_, d) = parse("vnet \"a\" { address_space = [10.0.0.1/16] }");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "AKS003");
    assert_eq!(d[0].help.as_deref(), Some("write `10.0.0.0/16`"));
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let text = format!("a = {}{}", "[".repeat(5000), "]".repeat(5000));
    let (_, d) = parse(&text);
    assert_eq!(d.len(), 1);
    assert!(d[0].message.contains("nested"));
    assert!(parse_value(FileId(0), &text).is_none());
}

#[test]
fn brackets_in_comments_and_strings_do_not_count_toward_nesting() {
    let brackets = "[{(".repeat(30);
    let text = format!("# {brackets}\na = \"{brackets}\" // {brackets}\n/* {brackets}\n{brackets} */\n");
    ok(&text);
    assert!(parse_value(FileId(0), &format!("\"{brackets}\"")).is_some());
}

#[test]
fn bad_octets_are_reported() {
    let (_, d) = parse("a = 10.0.0.300");
    assert_eq!(d[0].code, "AKS002");
}

#[test]
fn every_broken_item_is_reported() {
    let (file, d) = parse("vnet \"a\" { x = }\nresource_group \"ok\" {}\nvnet \"b\" { = 1 }\n");
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(file.items.len(), 1);
}

#[test]
fn comments_are_collected_outside_strings() {
    let file = ok("# top\na = \"#not\" // tail\n/* block */ b = 1\n");
    let texts: Vec<_> = file.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["# top", "// tail", "/* block */"]);
}

#[test]
fn calls_and_maps() {
    let file = ok("stack \"s\" { subscription = env(\"SUB\")  tags = { \"team.io/owner\" = \"net\" } }");
    let Item::Block(b) = &file.items[0] else { panic!() };
    assert!(matches!(attribute_value(b, "subscription"), ExprKind::Call { .. }));
    assert!(matches!(attribute_value(b, "tags"), ExprKind::Map(_)));
}
