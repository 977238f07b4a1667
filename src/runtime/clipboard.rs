//! The operator's clipboard through the terminal: OSC 52 (`ESC ] 52 ; c ; <base64> BEL`),
//! which xterm-style terminals turn into a clipboard write, including over SSH. Nothing comes
//! back: whether the terminal allowed it cannot be known, and the flash says so.
//!
//! Inside tmux (`$TMUX` set) the sequence goes out twice: as is, which tmux takes for its own
//! buffer and passes on to the outer terminal when `set-clipboard` is `on`; and wrapped in
//! tmux's passthrough (`ESC P tmux; … ESC \`, every ESC inside doubled), which reaches the
//! outer terminal unchanged when `allow-passthrough` is `on`. Whichever the room's tmux
//! allows does the copy; when both do, the same text is set twice.

use std::io::Write;

use base64::Engine;

/// The bytes that put `text` on the clipboard, for a terminal inside tmux or not.
pub fn osc52(text: &str, tmux: bool) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let plain = format!("\x1b]52;c;{b64}\x07");
    if !tmux {
        return plain;
    }
    let inner = plain.replace('\x1b', "\x1b\x1b");
    format!("{plain}\x1bPtmux;{inner}\x1b\\")
}

/// Writes the sequence for `text` to the terminal (stdout, where the console draws), between
/// two frames.
pub fn copy(text: &str) -> std::io::Result<()> {
    let tmux = std::env::var_os("TMUX").is_some_and(|v| !v.is_empty());
    let mut out = std::io::stdout().lock();
    out.write_all(osc52(text, tmux).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_osc52_is_base64_between_the_introducer_and_bel() {
        // RFC 4648's test vectors, through the sequence.
        for (text, b64) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(osc52(text, false), format!("\x1b]52;c;{b64}\x07"));
        }
        assert_eq!(
            osc52("AKIAIOSFODNN7EXAMPLE", false),
            "\x1b]52;c;QUtJQUlPU0ZPRE5ON0VYQU1QTEU=\x07"
        );
        // Non-ASCII goes as its UTF-8 bytes.
        assert_eq!(osc52("é", false), "\x1b]52;c;w6k=\x07");
    }

    #[test]
    fn inside_tmux_the_sequence_also_goes_through_passthrough_with_doubled_escapes() {
        let s = osc52("foo", true);
        assert_eq!(
            s,
            "\x1b]52;c;Zm9v\x07\x1bPtmux;\x1b\x1b]52;c;Zm9v\x07\x1b\\"
        );
        // One DCS, closed once: no lone ESC inside the wrapper.
        let wrapped = s.split_once("\x1bPtmux;").map(|(_, w)| w).unwrap_or("");
        let body = wrapped.strip_suffix("\x1b\\").unwrap_or("");
        assert_eq!(body.matches('\x1b').count(), 2);
        assert!(!body.replace("\x1b\x1b", "").contains('\x1b'));
    }
}
