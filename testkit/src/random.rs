//! Random valid stacks as text, for property tests: every value, block and comment form of
//! the grammar, laid out with any spacing it accepts.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

/// A piece of source and whether more labels could still join it on its line: a block
/// without a body or a value ending in a bare word would take a following block as labels.
#[derive(Clone, Debug)]
struct Piece {
    text: String,
    open: bool,
}

fn closed(text: String) -> Piece {
    Piece { text, open: false }
}

fn ident() -> BoxedStrategy<String> {
    "[A-Za-z_][A-Za-z0-9_]{0,5}(-[a-z0-9]{1,3})?".boxed()
}

fn string_literal() -> BoxedStrategy<String> {
    let part = prop_oneof![
        4 => "[a-zA-Z0-9 .:/#*=-]{1,4}",
        1 => Just("\\\\".to_string()),
        1 => Just("\\\"".to_string()),
        1 => Just("\\n".to_string()),
        1 => Just("\\t".to_string()),
        1 => Just("\t".to_string()),
        1 => Just("é€".to_string()),
        1 => Just("//".to_string()),
        1 => Just("/*".to_string()),
    ];
    let short = prop::collection::vec(part, 0..5).prop_map(|parts| format!("\"{}\"", parts.concat()));
    // Long enough to push lists and maps past the line width.
    let long = "[a-z]{20,70}".prop_map(|s| format!("\"{s}\""));
    prop_oneof![6 => short, 1 => long].boxed()
}

/// A name as a key or reference segment: bare, quoted although plain, or any string.
fn name() -> BoxedStrategy<String> {
    prop_oneof![3 => ident(), 1 => ident().prop_map(|i| format!("\"{i}\"")), 1 => string_literal()].boxed()
}

fn number() -> BoxedStrategy<String> {
    prop_oneof![
        4 => (0u64..70000).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => (0u64..100).prop_map(|n| format!("00{n}")),
    ]
    .boxed()
}

fn ip() -> BoxedStrategy<Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from).boxed()
}

fn atom() -> BoxedStrategy<Piece> {
    let reference = (ident(), prop::collection::vec(name(), 1..4), proptest::option::of("[a-z0-9][a-z0-9_-]{0,4}"))
        .prop_map(|(first, rest, port)| {
            let mut text = first;
            for segment in rest {
                text.push('.');
                text.push_str(&segment);
            }
            if let Some(port) = port {
                text.push(':');
                text.push_str(&port);
            }
            text
        });
    prop_oneof![
        3 => string_literal().prop_map(closed),
        2 => number().prop_map(closed),
        // `true` is also a name: a constructor `true` could take labels after it.
        1 => prop_oneof![Just("true"), Just("false")].prop_map(|b| Piece { text: b.to_string(), open: true }),
        1 => ip().prop_map(|ip| closed(ip.to_string())),
        1 => (ip(), 0u8..=32).prop_map(|(ip, prefix)| {
            let net = Ipv4Net::new(ip, prefix).unwrap_or_default().trunc();
            closed(net.to_string())
        }),
        1 => (0u64..100, 0u64..100).prop_map(|(a, b)| closed(format!("{a}..{b}"))),
        1 => (0u64..65536, ident()).prop_map(|(port, protocol)| closed(format!("{port}/{protocol}"))),
        2 => reference.prop_map(closed),
        2 => ident().prop_map(|word| Piece { text: word, open: true }),
    ]
    .boxed()
}

fn mapping(side: BoxedStrategy<Piece>) -> BoxedStrategy<Piece> {
    // A space before the arrow: a port name may end in `-` and would take the arrow's dash.
    (side.clone(), prop_oneof![Just(" "), Just("  ")], prop_oneof![Just(""), Just(" ")], side)
        .prop_map(|(from, before, after, to)| closed(format!("{}{before}->{after}{}", from.text, to.text)))
        .boxed()
}

fn comment() -> BoxedStrategy<String> {
    prop_oneof![
        "# [a-zA-Z0-9 #/\"{}=.*-]{0,12}\n",
        "//[a-zA-Z0-9 #/\"{}=.*-]{0,12}\n",
        "/\\* ?[a-zA-Z0-9 #/\"{}=.-]{0,12} ?\\*/",
        "/\\*[a-z0-9#/=.-]{0,6}\n[a-z0-9#/=.-]{0,6}\\*/",
    ]
    .boxed()
}

/// Whitespace, perhaps with comments, where the grammar allows both.
fn space() -> BoxedStrategy<String> {
    prop_oneof![
        6 => prop_oneof![Just(" "), Just("  "), Just("\t"), Just("\n"), Just("\n\n"), Just("\n\n\n  "), Just("\r\n"), Just(" \n \n")]
            .prop_map(str::to_string),
        2 => (prop_oneof![Just(" "), Just("\n"), Just("\n\n")], comment(), prop_oneof![Just(" "), Just("\n"), Just("\n\n  ")])
            .prop_map(|(a, c, b)| format!("{a}{c}{b}")),
        1 => (comment(), comment()).prop_map(|(a, b)| format!(" {a} {b} ")),
    ]
    .boxed()
}

fn maybe_space() -> BoxedStrategy<String> {
    prop_oneof![2 => Just(String::new()), 1 => space()].boxed()
}

fn hspace() -> BoxedStrategy<&'static str> {
    prop_oneof![4 => Just(" "), 1 => Just("  "), 1 => Just("\t")].boxed()
}

/// The whitespace between a block's labels and its body.
fn gap() -> BoxedStrategy<&'static str> {
    prop_oneof![4 => Just(" "), 1 => Just(""), 1 => Just("\n"), 1 => Just(" \n  ")].boxed()
}

/// Elements between brackets with commas, perhaps a trailing one.
fn separated(open: &str, elements: Vec<(Piece, String, String)>, trailing_comma: bool, close: &str) -> String {
    let mut text = open.to_string();
    let count = elements.len();
    for (position, (element, before, after)) in elements.into_iter().enumerate() {
        text.push_str(&before);
        text.push_str(&element.text);
        text.push_str(&after);
        if position + 1 < count || trailing_comma {
            text.push(',');
        }
    }
    text.push_str(close);
    text
}

fn element(inner: BoxedStrategy<Piece>) -> BoxedStrategy<(Piece, String, String)> {
    (inner, maybe_space(), maybe_space()).boxed()
}

fn list(inner: BoxedStrategy<Piece>) -> BoxedStrategy<Piece> {
    (prop::collection::vec(element(inner), 0..7), any::<bool>(), maybe_space())
        .prop_map(|(elements, comma, end)| {
            let comma = comma && !elements.is_empty();
            closed(separated("[", elements, comma, &format!("{end}]")))
        })
        .boxed()
}

fn call(inner: BoxedStrategy<Piece>) -> BoxedStrategy<Piece> {
    (ident(), prop::collection::vec(element(inner), 0..3), any::<bool>())
        .prop_map(|(function, args, comma)| {
            let comma = comma && !args.is_empty();
            closed(separated(&format!("{function}("), args, comma, ")"))
        })
        .boxed()
}

/// Items separated by whitespace, a line break after any item that could take more labels.
fn join_items(items: Vec<Piece>, separators: &[String]) -> String {
    let mut text = String::new();
    for (position, item) in items.iter().enumerate() {
        if position > 0 {
            let separator = &separators[position % separators.len()];
            text.push_str(separator);
            if items[position - 1].open && !separator.contains('\n') {
                text.push('\n');
            }
        }
        text.push_str(&item.text);
    }
    text
}

fn body(items: BoxedStrategy<Vec<Piece>>) -> BoxedStrategy<String> {
    (maybe_space(), items, prop::collection::vec(space(), 4), maybe_space())
        .prop_map(|(start, items, separators, end)| {
            let last_open = items.last().is_some_and(|i| i.open);
            let end = if last_open && end.is_empty() { " ".to_string() } else { end };
            format!("{{{start}{}{end}}}", join_items(items, &separators))
        })
        .boxed()
}

fn label() -> BoxedStrategy<Piece> {
    let simple = prop_oneof![6 => atom(), 1 => call(atom())].boxed();
    prop_oneof![4 => simple.clone(), 1 => mapping(simple)].boxed()
}

fn labels() -> BoxedStrategy<String> {
    prop::collection::vec((hspace(), label()), 0..3)
        .prop_map(|labels| labels.into_iter().map(|(space, label)| format!("{space}{}", label.text)).collect())
        .boxed()
}

fn attribute(value: BoxedStrategy<Piece>) -> BoxedStrategy<Piece> {
    (name(), maybe_space(), maybe_space(), value)
        .prop_map(|(key, before, after, value)| Piece {
            text: format!("{key}{before}={after}{}", value.text),
            open: value.open,
        })
        .boxed()
}

fn block(body_items: BoxedStrategy<Vec<Piece>>) -> BoxedStrategy<Piece> {
    (ident(), labels(), proptest::option::of((gap(), body(body_items))))
        .prop_map(|(kind, labels, body)| match body {
            Some((gap, body)) => closed(format!("{kind}{labels}{gap}{body}")),
            None => Piece { text: format!("{kind}{labels}"), open: true },
        })
        .boxed()
}

fn constructor(inner: BoxedStrategy<Piece>) -> BoxedStrategy<Piece> {
    let body_items = prop::collection::vec(attribute(inner), 0..5).boxed();
    // A constructor takes at most one label (`load_balancer internal { ... }`).
    let labels = prop::collection::vec((hspace(), label()), 0..2).prop_map(|labels| {
        labels.into_iter().map(|(space, label)| format!("{space}{}", label.text)).collect::<String>()
    });
    (ident(), labels, proptest::option::of((gap(), body(body_items))))
        .prop_map(|(name, labels, body)| match body {
            Some((gap, body)) => closed(format!("{name}{labels}{gap}{body}")),
            // Without labels or a body it is a word, which is open as well.
            None => Piece { text: format!("{name}{labels}"), open: true },
        })
        .boxed()
}

fn expression() -> BoxedStrategy<Piece> {
    let leaf = prop_oneof![5 => atom(), 1 => mapping(atom())];
    leaf.prop_recursive(3, 24, 4, |inner| {
        let map_items = prop::collection::vec(
            prop_oneof![4 => attribute(inner.clone()), 1 => block(Just(Vec::new()).boxed())],
            0..5,
        )
        .boxed();
        prop_oneof![
            2 => list(inner.clone()),
            1 => call(inner.clone()),
            2 => body(map_items).prop_map(closed),
            2 => constructor(inner),
        ]
    })
    .boxed()
}

fn item() -> BoxedStrategy<Piece> {
    let leaf = prop_oneof![3 => attribute(expression()), 1 => block(Just(Vec::new()).boxed())];
    leaf.prop_recursive(3, 24, 5, |inner| block(prop::collection::vec(inner, 0..6).boxed())).boxed()
}

/// A valid stack of up to six items, nested up to three levels, with comments and odd
/// spacing wherever the grammar allows them.
pub fn stack() -> BoxedStrategy<String> {
    (maybe_space(), prop::collection::vec(item(), 0..6), prop::collection::vec(space(), 4), maybe_space())
        .prop_map(|(start, items, separators, end)| format!("{start}{}{end}", join_items(items, &separators)))
        .boxed()
}
