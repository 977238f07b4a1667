//! Escalation paths (filled below).
