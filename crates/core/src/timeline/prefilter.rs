//! The byte-level pre-filter that keeps a scan of gigabytes of trail logs cheap.
//!
//! Nearly every record in a trail bucket was made by someone other than the leaked key, so the
//! scan must not pay for JSON parsing of those. [`KeyFilter::hits`] answers "does this buffer
//! mention a tracked key at all" with one SIMD substring search per key (per key prefix, when
//! there are many keys). When a delivered log
//! file (`{"Records":[…]}`) does mention one, [`KeyFilter::scan_records`] walks the `Records`
//! array with a small string-aware bracket counter, never building a JSON value, and hands back
//! only the byte spans of the records that contain a key. The walk stops right after the last
//! record with a hit, so the tail of the file is never looked at.
//!
//! Anything that is not shaped like a delivered log file makes the scanner give up and say so
//! ([`ScanOutcome::ParseWhole`]); the caller then parses the document and filters the events.

use std::collections::HashSet;
use std::ops::ControlFlow;

use memchr::memmem;

/// The set of access key ids a scan is looking for, with its substring searchers built once.
#[derive(Debug, Clone)]
pub struct KeyFilter {
    keys: HashSet<String>,
    matcher: Matcher,
}

/// Up to this many keys, one SIMD search per key; beyond, one search per key prefix.
const SEARCH_EACH_UP_TO: usize = 4;

/// How occurrences are found. A handful of keys: one searcher each. Many keys (a long chain
/// of minted credentials): access key ids share a few four-letter prefixes (`AKIA`, `ASIA`),
/// so search for those and look each occurrence up, instead of one pass per key.
#[derive(Debug, Clone)]
enum Matcher {
    Each(Vec<memmem::Finder<'static>>),
    Prefixed(Vec<PrefixGroup>),
}

#[derive(Debug, Clone)]
struct PrefixGroup {
    finder: memmem::Finder<'static>,
    /// The group's keys by length, so a match is one slice and one set look-up per length.
    by_len: Vec<(usize, HashSet<Vec<u8>>)>,
}

impl PrefixGroup {
    /// Whether a key of this group starts at `at` (where the prefix was found).
    fn key_at(&self, hay: &[u8], at: usize) -> bool {
        self.by_len.iter().any(|(len, set)| {
            at.checked_add(*len)
                .and_then(|end| hay.get(at..end))
                .is_some_and(|candidate| set.contains(candidate))
        })
    }
}

const PREFIX_LEN: usize = 4;

/// One top-level record of a `{"Records":[…]}` document, as found by [`KeyFilter::scan_records`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSpan<'a> {
    /// Position of the record in the `Records` array, from 0.
    pub index: usize,
    /// The record's bytes, from its opening to its closing bracket.
    pub bytes: &'a [u8],
}

/// What [`KeyFilter::scan_records`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOutcome<'a> {
    /// The spans of the records that contain at least one key, in document order. Empty when
    /// no key occurs anywhere in the document (whatever its shape).
    Records(Vec<RecordSpan<'a>>),
    /// A key occurs, but the document is not a well-formed `{"Records":[…]}` log, so record
    /// boundaries are unknown: parse the whole document and filter the events instead.
    ParseWhole,
}

impl KeyFilter {
    /// A filter for these access key ids. Empty strings are ignored; duplicates collapse.
    pub fn new(keys: impl IntoIterator<Item = String>) -> KeyFilter {
        let keys: HashSet<String> = keys.into_iter().filter(|k| !k.is_empty()).collect();
        let mut sorted: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        sorted.sort();
        let matcher = if sorted.len() <= SEARCH_EACH_UP_TO {
            Matcher::Each(
                sorted
                    .into_iter()
                    .map(|k| memmem::Finder::new(k).into_owned())
                    .collect(),
            )
        } else {
            let mut groups: Vec<(&[u8], Vec<&[u8]>)> = Vec::new();
            for key in sorted {
                let prefix = key.get(..PREFIX_LEN).unwrap_or(key);
                match groups.iter_mut().find(|(p, _)| *p == prefix) {
                    Some((_, members)) => members.push(key),
                    None => groups.push((prefix, vec![key])),
                }
            }
            Matcher::Prefixed(
                groups
                    .into_iter()
                    .map(|(prefix, members)| {
                        let mut by_len: Vec<(usize, HashSet<Vec<u8>>)> = Vec::new();
                        for key in members {
                            match by_len.iter_mut().find(|(len, _)| *len == key.len()) {
                                Some((_, set)) => {
                                    set.insert(key.to_vec());
                                }
                                None => by_len.push((key.len(), HashSet::from([key.to_vec()]))),
                            }
                        }
                        PrefixGroup {
                            finder: memmem::Finder::new(prefix).into_owned(),
                            by_len,
                        }
                    })
                    .collect(),
            )
        };
        KeyFilter { keys, matcher }
    }

    /// No key to look for: nothing will ever match.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many distinct keys the filter holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether `key` is one of the filter's keys (exact match).
    pub fn contains(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// The keys, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// Whether any key occurs anywhere in `hay`.
    pub fn hits(&self, hay: &[u8]) -> bool {
        match &self.matcher {
            Matcher::Each(finders) => finders.iter().any(|f| f.find(hay).is_some()),
            Matcher::Prefixed(groups) => groups
                .iter()
                .any(|g| g.finder.find_iter(hay).any(|at| g.key_at(hay, at))),
        }
    }

    /// The records of a delivered log document that contain a key, without parsing any JSON.
    ///
    /// The document is expected to be `{"Records":[ … ]}` (whitespace allowed, `Records` the
    /// first member). When no key occurs at all the answer is an empty list straight away;
    /// when one does and the document has another shape, or its brackets do not add up before
    /// the last hit, the answer is [`ScanOutcome::ParseWhole`].
    pub fn scan_records<'a>(&self, doc: &'a [u8]) -> ScanOutcome<'a> {
        let hits = self.hit_positions(doc);
        if hits.is_empty() {
            return ScanOutcome::Records(Vec::new());
        }
        let mut spans = Vec::new();
        let mut next_hit = 0usize;
        let walk = walk_records(doc, |index, start, end| {
            // Hits before this record lie between records (impossible for key-like text in a
            // well-formed document); step over them.
            while hits.get(next_hit).is_some_and(|&h| h < start) {
                next_hit += 1;
            }
            let mut inside = false;
            while hits.get(next_hit).is_some_and(|&h| h < end) {
                inside = true;
                next_hit += 1;
            }
            if inside && let Some(bytes) = doc.get(start..end) {
                spans.push(RecordSpan { index, bytes });
            }
            if next_hit >= hits.len() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        match walk {
            // Stopped after the last hit: everything that matters was seen.
            Walk::Stopped => ScanOutcome::Records(spans),
            // Walked to the end with hits left over: they lie outside the Records array, so
            // the document carries more than records. Let the parser decide.
            Walk::Complete if next_hit >= hits.len() => ScanOutcome::Records(spans),
            Walk::Complete | Walk::NotRecords | Walk::Broken { .. } => ScanOutcome::ParseWhole,
        }
    }

    /// Start offsets of every occurrence of every key, ascending.
    fn hit_positions(&self, doc: &[u8]) -> Vec<usize> {
        let mut hits = Vec::new();
        let searches = match &self.matcher {
            Matcher::Each(finders) => {
                for finder in finders {
                    hits.extend(finder.find_iter(doc));
                }
                finders.len()
            }
            Matcher::Prefixed(groups) => {
                for g in groups {
                    hits.extend(g.finder.find_iter(doc).filter(|&at| g.key_at(doc, at)));
                }
                groups.len()
            }
        };
        if searches > 1 {
            hits.sort_unstable();
        }
        hits
    }
}

/// How a walk over a `Records` array ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walk {
    /// The document is `{"Records":[…]}` and every record was visited.
    Complete,
    /// The visitor asked to stop.
    Stopped,
    /// The document does not start like `{"Records":[`.
    NotRecords,
    /// The structure broke at this byte offset (truncated, or not JSON). Records before it
    /// were visited.
    Broken { at: usize },
}

/// Visit each top-level element of the `Records` array of a delivered log document, as
/// `(index, start, end)` byte offsets, without parsing the elements.
///
/// Strings are skipped as a whole (a bracket inside a string, escaped quotes included, never
/// counts), so the spans are exact for valid JSON. Invalid input never panics: it yields spans
/// the JSON parser will reject, or ends the walk with [`Walk::Broken`].
pub(crate) fn walk_records(
    doc: &[u8],
    visit: impl FnMut(usize, usize, usize) -> ControlFlow<()>,
) -> Walk {
    let Some(pos) = records_body(doc) else {
        return Walk::NotRecords;
    };
    walk_elements(doc, pos, visit)
}

/// [`walk_records`] for a document that is one JSON array (`[…]`, whitespace and a byte
/// order mark allowed before it): each top-level element, unparsed.
pub(crate) fn walk_array(
    doc: &[u8],
    visit: impl FnMut(usize, usize, usize) -> ControlFlow<()>,
) -> Walk {
    let start = skip_ws(
        doc,
        if doc.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        },
    );
    let Some(pos) = token_at(doc, start, b"[") else {
        return Walk::NotRecords;
    };
    // A bare array ends with its `]`: only whitespace may follow.
    walk_elements_until(doc, pos, visit, |doc, at| skip_ws(doc, at) == doc.len())
}

/// [`walk_records`] for an object whose first member is the array `name` (saved LookupEvents
/// output, `{"Events":[…],"NextToken":…}`): its elements, whatever follows the array.
pub(crate) fn walk_member(
    doc: &[u8],
    name: &[u8],
    visit: impl FnMut(usize, usize, usize) -> ControlFlow<()>,
) -> Walk {
    let Some(pos) = member_body(doc, name) else {
        return Walk::NotRecords;
    };
    walk_elements_until(doc, pos, visit, |_, _| true)
}

fn walk_elements(
    doc: &[u8],
    pos: usize,
    visit: impl FnMut(usize, usize, usize) -> ControlFlow<()>,
) -> Walk {
    walk_elements_until(doc, pos, visit, closes_document)
}

/// The elements of the array whose body starts at `pos`; `closes` says whether what follows
/// the array's `]` ends the document properly.
fn walk_elements_until(
    doc: &[u8],
    mut pos: usize,
    mut visit: impl FnMut(usize, usize, usize) -> ControlFlow<()>,
    closes: fn(&[u8], usize) -> bool,
) -> Walk {
    let mut index = 0usize;
    loop {
        pos = skip_ws(doc, pos);
        let Some(&b) = doc.get(pos) else {
            return Walk::Broken { at: pos };
        };
        if b == b']' {
            // Only reached for `[]` or right after an element: a comma followed by `]` is
            // caught below.
            return if closes(doc, pos + 1) {
                Walk::Complete
            } else {
                Walk::Broken { at: pos + 1 }
            };
        }
        let start = pos;
        let end = match b {
            b'{' | b'[' => match skip_container(doc, pos) {
                Some(end) => end,
                None => return Walk::Broken { at: doc.len() },
            },
            b'"' => match skip_string(doc, pos + 1) {
                Some(end) => end,
                None => return Walk::Broken { at: doc.len() },
            },
            b',' | b':' | b'}' => return Walk::Broken { at: pos },
            _ => skip_scalar(doc, pos),
        };
        if visit(index, start, end).is_break() {
            return Walk::Stopped;
        }
        index += 1;
        pos = skip_ws(doc, end);
        match doc.get(pos) {
            Some(b',') => {
                pos += 1;
                // A comma must be followed by another element, not by the closing bracket.
                let after = skip_ws(doc, pos);
                if doc.get(after) == Some(&b']') {
                    return Walk::Broken { at: after };
                }
            }
            Some(b']') => {}
            _ => return Walk::Broken { at: pos },
        }
    }
}

/// Offset just past `[` when `doc` starts with `{"Records":[` (whitespace allowed around each
/// token, and a UTF-8 byte order mark before it).
fn records_body(doc: &[u8]) -> Option<usize> {
    member_body(doc, b"\"Records\"")
}

/// Offset just past `[` when `doc` starts with `{NAME:[` (`name` quoted).
fn member_body(doc: &[u8], name: &[u8]) -> Option<usize> {
    let mut pos = if doc.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    pos = skip_ws(doc, pos);
    pos = token_at(doc, pos, b"{")?;
    pos = skip_ws(doc, pos);
    pos = token_at(doc, pos, name)?;
    pos = skip_ws(doc, pos);
    pos = token_at(doc, pos, b":")?;
    pos = skip_ws(doc, pos);
    token_at(doc, pos, b"[")
}

fn token_at(doc: &[u8], pos: usize, token: &[u8]) -> Option<usize> {
    let end = pos.checked_add(token.len())?;
    (doc.get(pos..end)? == token).then_some(end)
}

/// After the array's `]`: only `}` and whitespace may follow.
fn closes_document(doc: &[u8], pos: usize) -> bool {
    let pos = skip_ws(doc, pos);
    doc.get(pos) == Some(&b'}') && skip_ws(doc, pos + 1) == doc.len()
}

#[inline]
fn skip_ws(doc: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = doc.get(pos) {
        pos += 1;
    }
    pos
}

/// End of a bare scalar (number, `true`, `false`, `null`, or junk): the next delimiter.
fn skip_scalar(doc: &[u8], mut pos: usize) -> usize {
    while let Some(&b) = doc.get(pos) {
        if matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t') {
            break;
        }
        pos += 1;
    }
    pos
}

/// Offset just past the closing quote of a string whose body starts at `pos`.
#[inline]
fn skip_string(doc: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let rest = doc.get(pos..)?;
        let found = memchr::memchr2(b'"', b'\\', rest)?;
        let at = pos + found;
        if doc.get(at) == Some(&b'"') {
            return Some(at + 1);
        }
        // A backslash escapes exactly the next byte (`\uXXXX` has no quote in it).
        pos = at + 2;
    }
}

/// The values one after the other at the top of `doc` (`{…}{…}`, or a single value; a byte
/// order mark and whitespace allowed around them): `visit(start, end)` for each object or
/// array. `None` when something else is there or a value does not close.
pub(crate) fn top_values(doc: &[u8], mut visit: impl FnMut(usize, usize)) -> Option<()> {
    let mut pos = if doc.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    loop {
        pos = skip_ws(doc, pos);
        match doc.get(pos) {
            None => return Some(()),
            Some(b'{' | b'[') => {
                let end = skip_container(doc, pos)?;
                visit(pos, end);
                pos = end;
            }
            Some(_) => return None,
        }
    }
}

/// The members of the object whose `{` is at `pos`: `visit(name, start, end)` with the
/// member's name as written (quotes included) and its value's span. `None` when the object is
/// damaged.
pub(crate) fn object_members(
    doc: &[u8],
    pos: usize,
    mut visit: impl FnMut(&[u8], usize, usize),
) -> Option<()> {
    let mut pos = token_at(doc, pos, b"{")?;
    loop {
        pos = skip_ws(doc, pos);
        match doc.get(pos)? {
            b'}' => return Some(()),
            b'"' => {}
            _ => return None,
        }
        let name_end = skip_string(doc, pos + 1)?;
        let name = doc.get(pos..name_end)?;
        pos = skip_ws(doc, name_end);
        pos = token_at(doc, pos, b":")?;
        pos = skip_ws(doc, pos);
        let start = pos;
        let end = match doc.get(pos)? {
            b'{' | b'[' => skip_container(doc, pos)?,
            b'"' => skip_string(doc, pos + 1)?,
            _ => skip_scalar(doc, pos),
        };
        visit(name, start, end);
        pos = skip_ws(doc, end);
        match doc.get(pos)? {
            b',' => pos += 1,
            b'}' => return Some(()),
            _ => return None,
        }
    }
}

/// The elements of the array whose `[` is at `pos`, unparsed: `visit(index, start, end)`.
pub(crate) fn array_elements(
    doc: &[u8],
    pos: usize,
    visit: impl FnMut(usize, usize, usize) -> ControlFlow<()>,
) -> Walk {
    match token_at(doc, pos, b"[") {
        Some(body) => walk_elements_until(doc, body, visit, |_, _| true),
        None => Walk::NotRecords,
    }
}

/// Byte classes for the structural part of the walk.
const PLAIN: u8 = 0;
const OPEN: u8 = 1;
const CLOSE: u8 = 2;
const QUOTE: u8 = 3;

static CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    t[b'{' as usize] = OPEN;
    t[b'[' as usize] = OPEN;
    t[b'}' as usize] = CLOSE;
    t[b']' as usize] = CLOSE;
    t[b'"' as usize] = QUOTE;
    t
};

/// Offset just past the bracket that closes the object or array opening at `pos`.
///
/// `{` and `[` are not told apart: in valid JSON they nest properly, and invalid JSON only
/// has to end somewhere without panicking.
fn skip_container(doc: &[u8], pos: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = pos;
    while let Some(&b) = doc.get(i) {
        match CLASS[usize::from(b)] {
            PLAIN => i += 1,
            OPEN => {
                depth += 1;
                i += 1;
            }
            CLOSE => {
                depth = depth.saturating_sub(1);
                i += 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i = skip_string(doc, i + 1)?,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(keys: &[&str]) -> KeyFilter {
        KeyFilter::new(keys.iter().map(|k| k.to_string()))
    }

    fn spans<'a>(outcome: &ScanOutcome<'a>) -> Vec<&'a str> {
        match outcome {
            ScanOutcome::Records(spans) => spans
                .iter()
                .map(|s| std::str::from_utf8(s.bytes).unwrap_or("<not utf-8>"))
                .collect(),
            ScanOutcome::ParseWhole => vec!["<parse whole>"],
        }
    }

    #[test]
    fn empty_and_duplicate_keys() {
        let f = filter(&["", "AKIA1", "AKIA1"]);
        assert_eq!(f.len(), 1);
        assert!(!f.is_empty());
        assert!(filter(&[""]).is_empty());
        assert!(f.hits(b"xxAKIA1yy"));
        assert!(!f.hits(b"xxAKIA2yy"));
        assert!(f.contains("AKIA1"));
        assert!(!f.contains("AKIA"));
    }

    #[test]
    fn many_keys_search_by_prefix() {
        let mut keys: Vec<String> = (0..40).map(|i| format!("ASIA{i:016}")).collect();
        keys.push("AKIAONE".into());
        keys.push("AK".into());
        let f = KeyFilter::new(keys);
        assert!(matches!(f.matcher, Matcher::Prefixed(_)));
        assert!(f.hits(b"..ASIA0000000000000039.."));
        assert!(f.hits(b"AKIAONE"));
        assert!(f.hits(b"xAKx"));
        assert!(!f.hits(b"ASIA000000000000004"));
        assert!(!f.hits(b"ASIA9999999999999999 A-K-IAONE"));
        let doc = br#"{"Records":[{"k":"ASIA0000000000000007"},{"k":"ASIA9"},{"k":"x AKIAONE"}]}"#;
        assert_eq!(
            spans(&f.scan_records(doc)),
            vec![r#"{"k":"ASIA0000000000000007"}"#, r#"{"k":"x AKIAONE"}"#]
        );
    }

    #[test]
    fn no_hit_is_empty_whatever_the_shape() {
        let f = filter(&["AKIAX"]);
        assert_eq!(
            spans(&f.scan_records(b"not json at all")),
            Vec::<&str>::new()
        );
        assert_eq!(spans(&f.scan_records(b"")), Vec::<&str>::new());
    }

    #[test]
    fn picks_only_records_with_a_key() {
        let doc =
            br#"{"Records":[{"a":"AKIAX","b":[1,{"c":"}]"}]},{"a":"AKIAY"} , {"a":"x\"AKIAX\\"}]}"#;
        let f = filter(&["AKIAX"]);
        assert_eq!(
            spans(&f.scan_records(doc)),
            vec![
                r#"{"a":"AKIAX","b":[1,{"c":"}]"}]}"#,
                r#"{"a":"x\"AKIAX\\"}"#
            ]
        );
        let f = filter(&["AKIAY", "AKIAX"]);
        let outcome = f.scan_records(doc);
        assert_eq!(spans(&outcome).len(), 3);
        if let ScanOutcome::Records(s) = outcome {
            assert_eq!(s.iter().map(|s| s.index).collect::<Vec<_>>(), vec![0, 1, 2]);
        }
    }

    #[test]
    fn long_strings_with_escapes_past_the_short_loop() {
        let long = format!(r#"{}\"{}\\"#, "a".repeat(30), "b".repeat(40));
        let doc = format!(
            r#"{{"Records":[{{"s":"{long}","k":"AKIAX"}},{{"s":"{long}]}}"}},{{"k":"AKIAX"}}]}}"#
        );
        let f = filter(&["AKIAX"]);
        let got = spans(&f.scan_records(doc.as_bytes()));
        assert_eq!(
            got,
            vec![
                format!(r#"{{"s":"{long}","k":"AKIAX"}}"#).as_str(),
                r#"{"k":"AKIAX"}"#
            ]
        );
    }

    #[test]
    fn whitespace_and_pretty_printing() {
        let doc = b"\xEF\xBB\xBF \n{ \"Records\" :\n [\n  {\"k\": \"AKIAX\"}\n ]\n}\n";
        assert_eq!(
            spans(&filter(&["AKIAX"]).scan_records(doc)),
            vec![r#"{"k": "AKIAX"}"#]
        );
    }

    #[test]
    fn other_shapes_fall_back() {
        let f = filter(&["AKIAX"]);
        for doc in [
            &br#"[{"k":"AKIAX"}]"#[..],
            br#"{"Events":[{"k":"AKIAX"}]}"#,
            br#"{"k":"AKIAX"}"#,
            br#"{"k":"AKIAX"}
{"k":"AKIAX"}"#,
            // Truncated before the hit's record closes.
            br#"{"Records":[{"k":"AKIAX""#,
            // A key outside the array.
            br#"{"Records":[{"k":1}],"x":"AKIAX"}"#,
            // Garbage between records, before the hit.
            br#"{"Records":[{"k":1} {"k":"AKIAX"}]}"#,
            br#"{"Records":[{"k":1},,{"k":"AKIAX"}]}"#,
        ] {
            assert_eq!(
                f.scan_records(doc),
                ScanOutcome::ParseWhole,
                "{}",
                String::from_utf8_lossy(doc)
            );
        }
    }

    #[test]
    fn stops_after_the_last_hit() {
        // The tail is broken, but it lies after the last hit, so it is never read.
        let doc = br#"{"Records":[{"k":"AKIAX"},{"k":2}, !!!"#;
        assert_eq!(
            spans(&filter(&["AKIAX"]).scan_records(doc)),
            vec![r#"{"k":"AKIAX"}"#]
        );
    }

    #[test]
    fn walk_reports_how_it_ended() {
        let count = |doc: &[u8]| {
            let mut n = 0;
            let w = walk_records(doc, |_, _, _| {
                n += 1;
                ControlFlow::Continue(())
            });
            (w, n)
        };
        assert_eq!(count(br#"{"Records":[]}"#), (Walk::Complete, 0));
        assert_eq!(count(br#"{"Records":[{},{}]}"#), (Walk::Complete, 2));
        assert_eq!(count(br#"{"Records":[{},{}],}"#).0, Walk::Broken { at: 18 });
        assert_eq!(count(br#"{"Records":[{},{},]}"#).0, Walk::Broken { at: 18 });
        assert_eq!(count(br#"{"Records":[{},{"#).0, Walk::Broken { at: 16 });
        assert_eq!(count(br#"{"Recs":[]}"#).0, Walk::NotRecords);
    }
}
