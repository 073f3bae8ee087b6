//! Parsing on every core: large files are cut between top-level items and the pieces parsed
//! at once. The result is the one [`parse_file`] gives file by file: a file any piece of
//! which does not parse is parsed again whole, for the parser's error recovery.

use super::ast::{File, Item};
use super::parser::{parse_file, parse_items, scan_comments, too_deep};
use crate::diag::{Diagnostic, FileId};
use crate::parallel;

/// Pieces smaller than this are not worth a thread.
const MIN_PIECE: usize = 64 * 1024;

/// Pieces per thread, at most. Several rather than one: pest's list of tokens grows with the
/// piece, and a thread's next piece reuses the memory of its last one.
const PIECES_PER_THREAD: usize = 8;

type Parsed = Option<(Vec<Item>, Vec<Diagnostic>)>;

/// Parses every file, as [`parse_file`] does each, on as many threads as the machine offers.
pub fn parse_files(files: &[(FileId, &str)]) -> Vec<(File, Vec<Diagnostic>)> {
    let threads = parallel::threads();
    // (file, start, end): a file nested too deep is left to `parse_file`, which reports it.
    let mut pieces: Vec<(usize, usize, usize)> = Vec::new();
    for (i, &(id, text)) in files.iter().enumerate() {
        if too_deep(id, text).is_some() {
            continue;
        }
        let count = (text.len() / MIN_PIECE).clamp(1, PIECES_PER_THREAD * threads);
        let cuts = cuts(text, count);
        for (k, &start) in cuts.iter().enumerate() {
            pieces.push((i, start, cuts.get(k + 1).copied().unwrap_or(text.len())));
        }
    }
    let parsed = parallel::map(&pieces, |&(i, start, end)| {
        let (id, text) = files[i];
        parse_items(id, &text[start..end], start)
    });
    let mut by_file: Vec<Vec<Parsed>> = files.iter().map(|_| Vec::new()).collect();
    for (&(i, _, _), result) in pieces.iter().zip(parsed) {
        by_file[i].push(result);
    }
    files
        .iter()
        .zip(by_file)
        .map(|(&(id, text), results)| {
            let whole: Option<Vec<_>> = results.into_iter().collect();
            match whole {
                Some(parts) if !parts.is_empty() => {
                    let mut items = Vec::with_capacity(parts.iter().map(|(items, _)| items.len()).sum());
                    let mut diagnostics = Vec::new();
                    for (part_items, part_diagnostics) in parts {
                        items.extend(part_items);
                        diagnostics.extend(part_diagnostics);
                    }
                    (File { items, comments: scan_comments(id, text) }, diagnostics)
                }
                _ => parse_file(id, text),
            }
        })
        .collect()
}

/// Where to cut `text` into about `count` pieces: 0, then the starts of top-level items
/// near each `len / count`. An item starts where a line starts with a name at column 0
/// outside any bracket, string or comment.
///
/// Parsing the pieces apart gives what parsing the whole gives, whenever every piece parses:
/// an item never ends at such a line's start (the newline before it is not part of any
/// item), and no rule that reads across a line break can go on with a name there (only
/// `=`, `{` or a value after `=` could, and a piece that ends before them does not parse).
/// So a misplaced cut costs a second parse, never a different tree.
fn cuts(text: &str, count: usize) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut cuts = vec![0];
    let mut target = text.len() / count;
    let mut depth: i64 = 0;
    let mut i = 0;
    while i < bytes.len() && cuts.len() < count {
        let at_line_start = i > 0 && bytes[i - 1] == b'\n';
        match bytes[i] {
            b if at_line_start && depth == 0 && i >= target && (b.is_ascii_alphabetic() || b == b'_') => {
                cuts.push(i);
                target = i + (text.len() - i) / (count + 1 - cuts.len()).max(1);
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                while i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    cuts.retain(|&c| text.is_char_boundary(c));
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_fall_at_top_level_items() {
        let text = "a = 1\nvnet \"x\" {\nb = [\n1]\n}\n/* c\nd = 1 */\ne = \"f\\\ng\"\n# h\ni {}\n";
        let item_starts: Vec<usize> = ["vnet", "e =", "i {}"].iter().filter_map(|item| text.find(item)).collect();
        let cuts = cuts(text, 8);
        assert_eq!(cuts[0], 0);
        assert!(cuts.len() > 1);
        assert!(cuts[1..].iter().all(|cut| item_starts.contains(cut)), "{cuts:?} {item_starts:?}");
    }

    #[test]
    fn pieces_parse_as_the_whole_file_does() {
        let text = aksform_testkit::large::generate_benchmark_stack(2, 2000, 100);
        assert!(cuts(&text, 8).len() > 1);
        let whole = parse_file(FileId(3), &text);
        let [(file, diagnostics)] = parse_files(&[(FileId(3), &text)]).try_into().unwrap();
        assert_eq!((file, diagnostics), whole);
    }

    #[test]
    fn a_file_with_errors_is_parsed_whole() {
        let good = aksform_testkit::large::generate_benchmark_stack(2, 2000, 100);
        let broken = format!("{good}\nvnet \"a\" {{ x = }}\n");
        let files = [(FileId(0), broken.as_str()), (FileId(1), good.as_str())];
        let parsed = parse_files(&files);
        assert_eq!(parsed[0], parse_file(FileId(0), &broken));
        assert_eq!(parsed[1], parse_file(FileId(1), &good));
        assert_eq!(parsed[0].1.len(), 1);
    }
}
