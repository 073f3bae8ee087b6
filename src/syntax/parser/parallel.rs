//! Parsing on every core: large files are cut between top-level items and the pieces parsed
//! at once. The result is the one [`parse_file`] gives file by file: a file any piece of
//! which does not parse is parsed again whole, for the parser's error recovery.

use super::{MAX_NESTING, comments, parse_file, parse_items};
use crate::diag::{Diagnostic, FileId};
use crate::parallel;
use crate::syntax::ast::{File, Item};
use crate::syntax::scan::{self, Outline};

/// Pieces smaller than this are not worth a thread.
const MIN_PIECE: usize = 64 * 1024;

/// Pieces per thread, at most. Several rather than one: pest's list of tokens grows with the
/// piece, and a thread's next piece reuses the memory of its last one.
const PIECES_PER_THREAD: usize = 8;

type Parsed = Option<(Vec<Item>, Vec<Diagnostic>)>;

/// Parses every file, as [`parse_file`] does each, on as many threads as the machine offers.
pub fn parse_files(files: &[(FileId, &str)]) -> Vec<(File, Vec<Diagnostic>)> {
    let threads = parallel::threads();
    // A file nested too deep is left to `parse_file`, which reports it.
    let outlines: Vec<Option<Outline>> = files
        .iter()
        .map(|&(_, text)| Some(scan::outline(text, MAX_NESTING)).filter(|o| o.too_deep.is_none()))
        .collect();
    // (file, start, end)
    let mut pieces: Vec<(usize, usize, usize)> = Vec::new();
    for (i, (&(_, text), outline)) in files.iter().zip(&outlines).enumerate() {
        let Some(outline) = outline else { continue };
        let count = (text.len() / MIN_PIECE).clamp(1, PIECES_PER_THREAD * threads);
        let cuts = cuts(&outline.item_starts, text.len(), count);
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
        .zip(outlines)
        .zip(by_file)
        .map(|((&(id, text), outline), results)| {
            let whole: Option<Vec<_>> = results.into_iter().collect();
            match (whole, outline) {
                (Some(parts), Some(outline)) if !parts.is_empty() => {
                    let mut items = Vec::with_capacity(parts.iter().map(|(items, _)| items.len()).sum());
                    let mut diagnostics = Vec::new();
                    for (part_items, part_diagnostics) in parts {
                        items.extend(part_items);
                        diagnostics.extend(part_diagnostics);
                    }
                    (File { items, comments: comments(id, text, &outline) }, diagnostics)
                }
                _ => parse_file(id, text),
            }
        })
        .collect()
}

/// Where to cut a text of `len` bytes into about `count` pieces: 0, then the first of the
/// `item_starts` (lines starting with a name at column 0 outside any bracket, string or
/// comment) at or after each `len / count`.
///
/// Parsing the pieces apart gives what parsing the whole gives, whenever every piece parses:
/// an item never ends at such a line's start (the newline before it is not part of any
/// item), and no rule that reads across a line break can go on with a name there (only
/// `=`, `{` or a value after `=` could, and a piece that ends before them does not parse).
/// So a misplaced cut costs a second parse, never a different tree.
fn cuts(item_starts: &[usize], len: usize, count: usize) -> Vec<usize> {
    let mut cuts = vec![0];
    let mut target = len / count;
    for &start in item_starts {
        if cuts.len() >= count {
            break;
        }
        if start >= target {
            cuts.push(start);
            target = start + (len - start) / (count + 1 - cuts.len()).max(1);
        }
    }
    cuts
}

#[cfg(test)]
mod tests {
    use aksform_testkit::large::generate_benchmark_stack;

    use super::*;

    fn cuts_of(text: &str, count: usize) -> Vec<usize> {
        cuts(&scan::outline(text, MAX_NESTING).item_starts, text.len(), count)
    }

    #[test]
    fn cuts_fall_at_top_level_items() {
        let text = "a = 1\nvnet \"x\" {\nb = [\n1]\n}\n/* c\nd = 1 */\ne = \"f\\\ng\"\n# h\ni {}\n";
        let item_starts: Vec<usize> = ["vnet", "e =", "i {}"].iter().filter_map(|item| text.find(item)).collect();
        let cuts = cuts_of(text, 8);
        assert_eq!(cuts[0], 0);
        assert!(cuts.len() > 1);
        assert!(cuts[1..].iter().all(|cut| item_starts.contains(cut)), "{cuts:?} {item_starts:?}");
    }

    #[test]
    fn pieces_parse_as_the_whole_file_does() {
        let text = generate_benchmark_stack(2, 2000, 100);
        assert!(cuts_of(&text, 8).len() > 1);
        let whole = parse_file(FileId(3), &text);
        let [(file, diagnostics)] = parse_files(&[(FileId(3), &text)]).try_into().unwrap();
        assert_eq!((file, diagnostics), whole);
    }

    #[test]
    fn a_file_with_errors_is_parsed_whole() {
        let good = generate_benchmark_stack(2, 2000, 100);
        let broken = format!("{good}\nvnet \"a\" {{ x = }}\n");
        let files = [(FileId(0), broken.as_str()), (FileId(1), good.as_str())];
        let parsed = parse_files(&files);
        assert_eq!(parsed[0], parse_file(FileId(0), &broken));
        assert_eq!(parsed[1], parse_file(FileId(1), &good));
        assert_eq!(parsed[0].1.len(), 1);
    }
}
