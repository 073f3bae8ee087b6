//! The one reading of a file's text below the grammar: where its strings, comments and
//! brackets are, and so where its lines start outside them. From it the parser takes the
//! comments, the nesting limit, the cuts between top-level items for parsing on every core,
//! and the pieces it parses alone to recover after a syntax error.
//!
//! By bytes: every character that matters here is ASCII, and no byte of a longer character
//! is. Strings and comments are read as the grammar reads them: a string ends at its closing
//! quote or, unclosed, at the line break (an escape takes the byte after it, a line break
//! too); `#` and `//` comments end at the line break, `/*` ones at the first `*/`.

use std::ops::Range;

/// What the scan meets outside strings and comments, and the comments themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    /// `{`, `[` or `(` at this byte.
    Open(usize),
    /// `}`, `]` or `)` at this byte.
    Close(usize),
    /// A comment: `#` or `//` to the end of its line, without the white space there;
    /// `/* ... */`, to the end of the text if unclosed.
    Comment(Range<usize>),
    /// The byte after a line break outside strings and block comments.
    LineStart(usize),
}

/// The tokens of a text, in order.
pub(super) struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Scanner { text, bytes: text.as_bytes(), at: 0 }
    }

    /// After the string whose text starts at `from`: after its closing quote, or at the line
    /// break that ends it unclosed.
    fn string_end(&self, mut from: usize) -> usize {
        let bytes = self.bytes;
        loop {
            match memchr::memchr3(b'\\', b'"', b'\n', bytes.get(from..).unwrap_or_default()) {
                Some(k) if bytes[from + k] == b'\\' => from += k + 2,
                Some(k) if bytes[from + k] == b'"' => return from + k + 1,
                Some(k) => return from + k,
                None => return bytes.len(),
            }
        }
    }

    fn line_comment(&mut self, start: usize) -> Token {
        let end = memchr::memchr(b'\n', &self.bytes[start..]).map_or(self.bytes.len(), |k| start + k);
        self.at = end;
        Token::Comment(start..start + self.text[start..end].trim_end().len())
    }

    fn block_comment(&mut self, start: usize) -> Token {
        let end = memchr::memmem::find(&self.bytes[start + 2..], b"*/").map_or(self.bytes.len(), |k| start + 2 + k + 2);
        self.at = end;
        Token::Comment(start..end)
    }
}

/// Whether the scan must look at a byte: the others are skipped in one run.
const MATTERS: [bool; 256] = {
    let bytes = b"\n\"#/{[(}])";
    let mut table = [false; 256];
    let mut k = 0;
    while k < bytes.len() {
        table[bytes[k] as usize] = true;
        k += 1;
    }
    table
};

impl Iterator for Scanner<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let bytes = self.bytes;
        loop {
            while self.at < bytes.len() && !MATTERS[bytes[self.at] as usize] {
                self.at += 1;
            }
            let at = self.at;
            let &byte = bytes.get(at)?;
            self.at += 1;
            match byte {
                b'\n' => return Some(Token::LineStart(at + 1)),
                b'{' | b'[' | b'(' => return Some(Token::Open(at)),
                b'}' | b']' | b')' => return Some(Token::Close(at)),
                b'"' => self.at = self.string_end(at + 1),
                b'#' => return Some(self.line_comment(at)),
                b'/' => match bytes.get(at + 1) {
                    Some(b'/') => return Some(self.line_comment(at)),
                    Some(b'*') => return Some(self.block_comment(at)),
                    _ => {}
                },
                _ => {}
            }
        }
    }
}

fn starts_name(byte: Option<&u8>) -> bool {
    byte.is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
}

/// What parsing a file needs before the grammar runs, from one scan.
pub(super) struct Outline {
    /// The byte ranges of the comments, in order.
    pub comments: Vec<Range<usize>>,
    /// The lines that start with a name at column 0 outside any bracket: where top-level
    /// items start, but for a value put on the line after its `=`.
    pub item_starts: Vec<usize>,
    /// The first bracket nested deeper than the limit asked for.
    pub too_deep: Option<usize>,
}

/// The outline of `text`, with brackets nested deeper than `max_nesting` reported.
pub(super) fn outline(text: &str, max_nesting: usize) -> Outline {
    let bytes = text.as_bytes();
    let mut outline = Outline { comments: Vec::new(), item_starts: Vec::new(), too_deep: None };
    // Unbalanced brackets make `depth` negative, which keeps cuts away until they balance;
    // `nesting` counts from zero again, so that no run of opening brackets goes unseen.
    let mut depth: i64 = 0;
    let mut nesting = 0usize;
    for token in Scanner::new(text) {
        match token {
            Token::Open(at) => {
                depth += 1;
                nesting += 1;
                if nesting > max_nesting && outline.too_deep.is_none() {
                    outline.too_deep = Some(at);
                }
            }
            Token::Close(_) => {
                depth -= 1;
                nesting = nesting.saturating_sub(1);
            }
            Token::Comment(range) => outline.comments.push(range),
            Token::LineStart(at) => {
                if depth == 0 && starts_name(bytes.get(at)) {
                    outline.item_starts.push(at);
                }
            }
        }
    }
    outline
}

/// Byte ranges of top-level items for recovery after a syntax error, so that each is parsed
/// alone: a new one starts at a line whose first character starts a name, at column 0, or
/// indented while no bracket is open since the last start.
pub(super) fn recovery_chunks(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut depth: i64 = 0;
    for token in Scanner::new(text) {
        match token {
            Token::Open(_) => depth += 1,
            Token::Close(_) => depth -= 1,
            Token::Comment(_) => {}
            Token::LineStart(at) => {
                let indent = bytes[at..].iter().take_while(|&&b| b == b' ' || b == b'\t').count();
                if starts_name(bytes.get(at + indent)) && (indent == 0 || depth <= 0) {
                    starts.push(at);
                    depth = 0;
                }
            }
        }
    }
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    starts.iter().zip(ends).map(|(&start, end)| start..end).filter(|range| !range.is_empty()).collect()
}

#[cfg(test)]
mod tests;
