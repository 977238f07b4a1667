//! The detail of the resource under the cursor: why it has its verdict, its facts, what it
//! is related to and the parts it carries.

use super::*;

/// A key as the detail shows it, with what it is to this incident.
pub(super) fn key_words(state: &State, key: &str) -> String {
    let short = key_short(key);
    if key.is_empty() {
        "no key".into()
    } else if state.leaked.contains(key) {
        format!("{short} (leaked)")
    } else if state.timeline.chains.contains_key(key) {
        format!("{short} (minted from a leaked key)")
    } else {
        short
    }
}

/// Why the resource has its verdict, in a sentence.
pub(super) fn why(state: &State, r: &Resource, a: Option<&Attribution>) -> String {
    let since = leak_start(state);
    let verdict = a.map_or(Verdict::Before, |a| a.verdict);
    let created = r.created.map_or_else(
        || "of unknown age".to_string(),
        |c| format!("created {}", fmt::minute(c)),
    );
    let n = a.map_or(0, |a| a.events.len());
    match verdict {
        Verdict::LeakedKey => {
            let made = a.and_then(|a| a.events.iter().find(|l| l.creates));
            let launcher = a.and_then(|a| a.launched_by.as_ref());
            match (made, launcher) {
                (Some(l), _) => format!(
                    "made by {} at {} with key {}",
                    l.name,
                    fmt::minute(l.time),
                    key_words(state, &l.key)
                ),
                (None, Some(l)) => format!(
                    "launched by {} {} ({}), which the leaked key made",
                    l.kind, l.id, l.region
                ),
                (None, None) => "made by a tracked key".into(),
            }
        }
        Verdict::AfterLeak => format!(
            "{created}, after the leak started{}; no event of a tracked key names it (yet)",
            since.map_or_else(String::new, |s| format!(" ({})", fmt::minute(s)))
        ),
        Verdict::Touched => format!(
            "there before the leak ({created}), changed by a tracked key: {n} event{}",
            if n == 1 { "" } else { "s" }
        ),
        Verdict::Before => format!("{created}; no tracked key made or changed it"),
    }
}

/// Everything about the resource under the cursor.
pub(super) fn detail_lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let Some((r, a)) = state.resources.current() else {
        return vec![Line::styled(
            " No resource under the cursor.".to_string(),
            theme.dim,
        )];
    };
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!(" {k:<11}"), theme.dim),
            Span::raw(v),
        ])
    };
    let heading = |s: &str| Line::styled(format!(" {s}"), theme.title);
    let verdict = a.map_or(Verdict::Before, |a| a.verdict);
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!(" {} ", verdict.label()),
            verdict_style(theme, verdict),
        ),
        Span::raw(why(state, r, a)),
    ])];
    lines.push(kv("id", r.id.clone()));
    if !r.name.is_empty() && r.name != r.id {
        lines.push(kv("name", r.name.clone()));
    }
    if let Some(arn) = &r.arn {
        lines.push(kv("ARN", arn.clone()));
    }
    let region = if r.region == GLOBAL {
        "global (IAM)".to_string()
    } else {
        r.region.clone()
    };
    lines.push(kv("region", region));
    if let Some(account) = &r.account {
        let named = crate::app::access::member_named(state, account);
        lines.push(kv(
            "account",
            format!("{named}: another account, acted on there"),
        ));
    }
    lines.push(kv("kind", r.kind.label().to_string()));
    if !r.state.is_empty() {
        lines.push(kv("state", r.state.clone()));
    }
    lines.push(kv(
        "created",
        r.created
            .map_or_else(|| "unknown".into(), |c| when(state, c)),
    ));
    if r.kind.has_termination_protection() {
        lines.push(if r.protected {
            Line::from(vec![
                Span::styled(format!(" {:<11}", "protection"), theme.dim),
                Span::styled(
                    "termination protection ON (the plan turns it off first)",
                    theme.warn,
                ),
            ])
        } else {
            kv("protection", "none".into())
        });
    }
    if r.kind.can_be_shared() {
        let (text, style) = match &r.sharing {
            Sharing::Private => ("private".to_string(), Style::default()),
            Sharing::Public { accounts } if accounts.is_empty() => {
                ("PUBLIC: anyone can use it".to_string(), theme.danger)
            }
            Sharing::Public { accounts } => (
                format!("PUBLIC, and accounts {}", accounts.join(", ")),
                theme.danger,
            ),
            Sharing::Accounts(a) => (format!("shared with {}", a.join(", ")), theme.warn),
            Sharing::Unknown(e) => (format!("unknown: {e}"), theme.dim),
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<11}", "sharing"), theme.dim),
            Span::styled(text, style),
        ]));
    }
    for (i, (k, v)) in r.tags.iter().enumerate() {
        lines.push(kv(if i == 0 { "tags" } else { "" }, format!("{k} = {v}")));
    }
    for (k, v) in &r.details {
        lines.push(kv(k, v.clone()));
    }
    if !r.related.is_empty() {
        lines.push(heading("Related"));
        let t = &state.resources;
        for rel in &r.related {
            let known = t.resources.iter().position(|x| x.reference() == *rel);
            let mut spans = vec![Span::raw(format!("   {rel}"))];
            match known {
                Some(i) => {
                    let v = t.verdict_of(i);
                    spans.push(Span::raw("  "));
                    spans.push(Span::styled(v.label(), verdict_style(theme, v)));
                }
                None => spans.push(Span::styled("  (not in the inventory)", theme.dim)),
            }
            lines.push(Line::from(spans));
        }
    }
    match &r.parts {
        Parts::None if r.kind.has_parts() => {
            lines.push(heading("Parts"));
            lines.push(Line::styled(
                "   not read yet (read for suspicious users and roles)".to_string(),
                theme.dim,
            ));
        }
        Parts::None => {}
        Parts::User(p) => {
            lines.push(heading("Parts, in deletion order"));
            let mut items: Vec<String> = Vec::new();
            if p.login_profile {
                items.push("console password".into());
            }
            items.extend(p.access_keys.iter().map(|k| {
                let mark = if state.leaked.contains(k) {
                    "  (leaked)"
                } else {
                    ""
                };
                format!("access key {k}{mark}")
            }));
            items.extend(
                p.signing_certificates
                    .iter()
                    .map(|c| format!("signing certificate {c}")),
            );
            items.extend(p.ssh_keys.iter().map(|k| format!("SSH key {k}")));
            items.extend(
                p.service_credentials
                    .iter()
                    .map(|(s, id)| format!("service credential {id} ({s})")),
            );
            items.extend(p.mfa_devices.iter().map(|d| format!("MFA device {d}")));
            items.extend(
                p.inline_policies
                    .iter()
                    .map(|x| format!("inline policy {x}")),
            );
            items.extend(
                p.attached_policies
                    .iter()
                    .map(|x| format!("attached policy {x}")),
            );
            items.extend(p.groups.iter().map(|g| format!("member of group {g}")));
            parts_lines(&mut lines, items, &p.unread, theme);
        }
        Parts::Role(p) => {
            lines.push(heading("Parts, in deletion order"));
            let mut items: Vec<String> = Vec::new();
            items.extend(
                p.inline_policies
                    .iter()
                    .map(|x| format!("inline policy {x}")),
            );
            items.extend(
                p.attached_policies
                    .iter()
                    .map(|x| format!("attached policy {x}")),
            );
            items.extend(
                p.instance_profiles
                    .iter()
                    .map(|x| format!("in instance profile {x}")),
            );
            parts_lines(&mut lines, items, &p.unread, theme);
        }
    }
    let target = r.reference();
    let kept: Vec<_> = state
        .resources
        .evidence
        .iter()
        .filter(|e| crate::app::resources::kept_of(e, &target))
        .collect();
    if !kept.is_empty() {
        lines.push(heading(&format!("Evidence kept ({})", kept.len())));
        for e in kept {
            let what = match (&e.file, &e.snapshot_id) {
                (Some(f), _) => format!(
                    "{f}  sha256 {}",
                    e.sha256
                        .as_deref()
                        .map_or_else(|| "?".to_string(), |h| h.chars().take(16).collect())
                ),
                (None, Some(snap)) => format!(
                    "snapshot {snap} of {}",
                    e.volume_id.as_deref().unwrap_or("a volume")
                ),
                (None, None) => e.what.clone(),
            };
            lines.push(Line::from(vec![
                Span::styled(format!("   {:<22}", e.what), theme.dim),
                Span::raw(what),
            ]));
        }
    }
    let events = a.map_or(&[][..], |a| a.events.as_slice());
    lines.push(heading(&format!(
        "CloudTrail events of tracked keys naming it ({}, newest first)",
        events.len()
    )));
    if events.is_empty() {
        lines.push(Line::styled("   none".to_string(), theme.dim));
    }
    let name_width = events
        .iter()
        .map(|l| l.name.chars().count())
        .max()
        .unwrap_or(0);
    for l in events {
        lines.push(Line::from(vec![
            Span::styled(
                format!("   {} {}Z  ", fmt::date(l.time), fmt::clock_time(l.time)),
                theme.dim,
            ),
            Span::raw(format!("{:<name_width$} ", l.name)),
            Span::styled(
                if l.creates { "creates " } else { "        " },
                theme.danger,
            ),
            Span::raw(key_words(state, &l.key)),
        ]));
    }
    lines
}

pub(super) fn parts_lines(
    lines: &mut Vec<Line<'static>>,
    items: Vec<String>,
    unread: &[String],
    theme: &Theme,
) {
    if items.is_empty() && unread.is_empty() {
        lines.push(Line::raw("   none"));
    }
    for (i, item) in items.into_iter().enumerate() {
        lines.push(Line::raw(format!("   {:>2}. {item}", i + 1)));
    }
    for u in unread {
        lines.push(Line::styled(
            format!("   ⚠ could not list: {u}"),
            theme.warn,
        ));
    }
}

pub(super) fn detail_pane(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    scroll: u16,
    borders: Borders,
    theme: &Theme,
) {
    let name = state
        .resources
        .current()
        .map_or_else(String::new, |(r, _)| {
            format!("{} {} · ", r.kind.label(), r.display_name())
        });
    let block = Block::default()
        .borders(borders | Borders::TOP)
        .border_style(theme.accent)
        .title(Span::styled(
            format!(" {name}j/k scroll · Esc closes "),
            theme.accent,
        ));
    let inner = block.inner(area);
    let lines = detail_lines(state, theme);
    // Never scrolled past the end.
    let total = wrapped_height(&lines, inner.width.max(1));
    let scroll = scroll.min(total.saturating_sub(inner.height));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}
