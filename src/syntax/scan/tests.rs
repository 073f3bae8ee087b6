//! The scan's tokens on small texts, and properties on random stacks: its cuts lie where pest
//! starts top-level items, or where the text before them does not parse.

use aksform_testkit::random;
use proptest::prelude::*;

use super::*;
use crate::diag::FileId;
use crate::syntax::parser::{parse_file, parse_items};

fn tokens(text: &str) -> Vec<Token> {
    Scanner::new(text).collect()
}

#[test]
fn brackets_and_comment_marks_in_strings_are_text() {
    assert_eq!(tokens(r#"a = "{[( # // /* \" )]}" (x)"#), [Token::Open(25), Token::Close(27)]);
}

#[test]
fn brackets_and_quotes_in_comments_are_text() {
    let text = "# {[\"\nb // ]\"  \n/* (\n{ */)";
    assert_eq!(
        tokens(text),
        [
            Token::Comment(0..5),
            Token::LineStart(6),
            Token::Comment(8..13),
            Token::LineStart(16),
            Token::Comment(16..25),
            Token::Close(25)
        ]
    );
}

#[test]
fn a_string_goes_on_past_an_escaped_line_break_and_ends_unclosed_at_a_bare_one() {
    assert_eq!(
        tokens("a = \"x\\\n{\" [\nb = \"y {\n}"),
        [Token::Open(11), Token::LineStart(13), Token::LineStart(22), Token::Close(22)]
    );
}

#[test]
fn an_unclosed_block_comment_runs_to_the_end() {
    assert_eq!(tokens("a /* {\n"), [Token::Comment(2..7)]);
}

#[test]
fn the_outline_keeps_names_at_column_zero_outside_brackets() {
    let text = "a = 1\n  b = 2\nc {\nd = [\n]\n}\n\"e\" = 3\n_f {}\n";
    let outline = outline(text, 64);
    let starts: Vec<&str> = outline.item_starts.iter().filter_map(|&at| text[at..].split_whitespace().next()).collect();
    assert_eq!(starts, ["c", "_f"]);
    assert_eq!(outline.too_deep, None);
}

#[test]
fn nesting_counts_brackets_outside_comments_and_strings_only() {
    let deep = format!("a = {}{}", "[".repeat(65), "]".repeat(65));
    assert_eq!(outline(&deep, 64).too_deep, Some(4 + 64));
    let commented = format!("a = 1 # {}\nb = \"{}\"\n/* {} */", "[".repeat(100), "{".repeat(100), "(".repeat(100));
    assert_eq!(outline(&commented, 64).too_deep, None);
}

#[test]
fn recovery_chunks_start_at_names_at_column_zero_or_indented_outside_brackets() {
    let text = "vnet \"a\" { x = }\n  resource_group \"ok\" {}\nvnet \"b\" {\n  y = 1\n";
    let chunks: Vec<&str> = recovery_chunks(text).into_iter().map(|range| &text[range]).collect();
    assert_eq!(chunks, ["vnet \"a\" { x = }\n", "  resource_group \"ok\" {}\n", "vnet \"b\" {\n  y = 1\n"]);
}

/// Where pest starts the top-level items of a text that parses.
fn pest_item_starts(text: &str) -> Vec<usize> {
    let (file, diagnostics) = parse_file(FileId(0), text);
    assert!(diagnostics.is_empty(), "a random stack does not parse: {diagnostics:#?}\n{text}");
    file.items.iter().map(|item| item.span().start as usize).collect()
}

/// That `cut` is where pest starts a top-level item, or that the text before it does not
/// parse (the piece before such a cut fails, and the file is parsed whole).
fn agrees(text: &str, pest: &[usize], cut: usize) -> Result<(), TestCaseError> {
    let at = text[cut..].len() - text[cut..].trim_start_matches([' ', '\t']).len() + cut;
    prop_assert!(
        pest.contains(&at) || parse_items(FileId(0), &text[..cut], 0).is_none(),
        "a cut at byte {cut} inside an item:\n{}\u{2702}{}",
        &text[..cut],
        &text[cut..]
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn item_starts_are_the_top_level_items_pest_starts_at_column_zero(text in random::stack()) {
        let pest = pest_item_starts(&text);
        let outline = outline(&text, 64);
        for &cut in &outline.item_starts {
            agrees(&text, &pest, cut)?;
        }
        for &start in &pest {
            let at_column_zero = start > 0 && text.as_bytes()[start - 1] == b'\n';
            if at_column_zero && starts_name(text.as_bytes().get(start)) {
                prop_assert!(outline.item_starts.contains(&start), "no cut at byte {start}:\n{text}");
            }
        }
    }

    #[test]
    fn recovery_chunks_start_where_pest_starts_items(text in random::stack()) {
        let pest = pest_item_starts(&text);
        let chunks = recovery_chunks(&text);
        for chunk in chunks.iter().skip(1) {
            agrees(&text, &pest, chunk.start)?;
        }
        let covered: usize = chunks.iter().map(|chunk| chunk.len()).sum();
        prop_assert_eq!(covered, text.len());
    }

    /// Cut at every item start, the pieces give the tree of the whole whenever they all parse.
    #[test]
    fn pieces_that_parse_make_the_whole_tree(text in prop_oneof![
        random::stack(),
        "[a-z0-9 \n\t{}\\[\\](),.:=\"#/*\\\\_>-]{0,200}",
    ]) {
        let outline = outline(&text, 64);
        prop_assume!(outline.too_deep.is_none());
        let ends = outline.item_starts.iter().copied().chain([text.len()]);
        let starts = [0].into_iter().chain(outline.item_starts.iter().copied());
        let pieces: Option<Vec<_>> =
            starts.zip(ends).map(|(start, end)| parse_items(FileId(0), &text[start..end], start)).collect();
        if let Some(pieces) = pieces {
            let (items, diagnostics): (Vec<_>, Vec<_>) = pieces.into_iter().unzip();
            let (whole, whole_diagnostics) = parse_file(FileId(0), &text);
            prop_assert_eq!(items.concat(), whole.items);
            prop_assert_eq!(diagnostics.concat(), whole_diagnostics);
        }
    }
}
