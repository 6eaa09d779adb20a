//! Server-rendered SVG for the Analytics page: the credits-per-day chart stacked by team and
//! the share bars of the top tables. Colours and sizes are presentation attributes, not
//! `style`, because the pages' Content-Security-Policy allows no inline styles; each bar
//! segment carries a `<title>` (the browser's hover text) and is a link, so the chart needs
//! no script.

use maud::{Markup, html};

/// Eight distinguishable colours (Okabe–Ito plus two) for the top teams, then grey for
/// "Other". Chosen to stay apart for the common colour-vision deficiencies.
pub const PALETTE: [&str; 9] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#7a5195",
    "#9aa4b2",
];

/// One stacked segment: its value, hover title and the link it opens.
pub struct Segment {
    /// Credits.
    pub value: f64,
    /// The hover title (`<title>`), e.g. `Sales · 2026-03-02: 12.5 credits`.
    pub title: String,
    /// Where a click goes.
    pub href: String,
}

/// One day's bar: its label and its segments, one per series (in legend order).
pub struct Bar {
    /// `2026-03-02`.
    pub label: String,
    /// One per series; zero-valued segments are not drawn.
    pub segments: Vec<Segment>,
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 8.0;

/// The stacked bar chart. `label` is the chart's accessible name; the table next to it is the
/// text alternative, so the SVG itself is one labelled image whose segments are links.
pub fn stacked_bars(label: &str, bars: &[Bar]) -> Markup {
    let max = bars
        .iter()
        .map(|b| b.segments.iter().map(|s| s.value).sum::<f64>())
        .fold(0.0_f64, f64::max);
    let scale_max = nice_ceiling(max);
    let plot_h = HEIGHT - BOTTOM - TOP;
    let plot_w = WIDTH - LEFT - 8.0;
    let slot = plot_w / bars.len().max(1) as f64;
    let bar_w = (slot * 0.8).max(1.0);
    // Label every nth day so the axis never crowds.
    let every = (bars.len() / 10).max(1);
    let y = |v: f64| TOP + plot_h - v / scale_max * plot_h;
    html! {
        svg.chart viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="group" aria-label=(label)
            xmlns="http://www.w3.org/2000/svg" data-role="credits-chart" {
            @for k in 0..=4 {
                @let v = scale_max * f64::from(k) / 4.0;
                line x1=(LEFT) x2=(WIDTH - 8.0) y1=(fmt(y(v))) y2=(fmt(y(v))) stroke="#dde2e8" stroke-width="1" {}
                text x=(LEFT - 6.0) y=(fmt(y(v) + 4.0)) text-anchor="end" font-size="11" fill="#5b6675" { (short(v)) }
            }
            @for (i, bar) in bars.iter().enumerate() {
                @let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
                g data-day=(bar.label) {
                    @for (k, s, top, h) in stack(bar, &y) {
                        a href=(s.href) {
                            rect x=(fmt(x)) y=(fmt(top)) width=(fmt(bar_w)) height=(fmt(h))
                                fill=(PALETTE[k.min(PALETTE.len() - 1)]) {
                                title { (s.title) }
                            }
                        }
                    }
                    @if i % every == 0 {
                        text x=(fmt(x + bar_w / 2.0)) y=(HEIGHT - 6.0) text-anchor="middle" font-size="11" fill="#5b6675" {
                            (bar.label.get(5..).unwrap_or(&bar.label))
                        }
                    }
                }
            }
        }
    }
}

/// The drawn segments of a bar, bottom up: (series, segment, top y, height).
fn stack<'a>(bar: &'a Bar, y: &impl Fn(f64) -> f64) -> Vec<(usize, &'a Segment, f64, f64)> {
    let mut acc = 0.0;
    let mut out = Vec::new();
    for (k, s) in bar.segments.iter().enumerate() {
        if s.value > 0.0 {
            let top = y(acc + s.value);
            out.push((k, s, top, (y(acc) - top).max(0.5)));
            acc += s.value;
        }
    }
    out
}

/// A legend swatch of series `k`.
pub fn swatch(k: usize) -> Markup {
    html! {
        svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" focusable="false" {
            rect width="12" height="12" rx="2" fill=(PALETTE[k.min(PALETTE.len() - 1)]) {}
        }
    }
}

/// A share bar: `share` (0..=1) of the width filled.
pub fn share_bar(share: f64) -> Markup {
    let w = (share.clamp(0.0, 1.0) * 120.0).max(if share > 0.0 { 1.0 } else { 0.0 });
    html! {
        svg.share width="120" height="10" viewBox="0 0 120 10" aria-hidden="true" focusable="false" {
            rect width="120" height="10" rx="2" fill="#eceff3" {}
            rect width=(fmt(w)) height="10" rx="2" fill="#3b4fd8" {}
        }
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// A round axis maximum at or above `v` (1, 2 or 5 × a power of ten).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * p)
}

/// An axis label: `1.5k`, `20`, `0.25`.
fn short(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}k", trim(v / 1000.0))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maximum_is_round_and_covers_the_tallest_bar() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.3), 10.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(450.0), 500.0);
        assert_eq!(short(1500.0), "1.5k");
        assert_eq!(short(0.25), "0.25");
    }

    #[test]
    fn segments_carry_titles_and_links_and_zeros_are_not_drawn() {
        let bars = [Bar {
            label: "2026-03-02".into(),
            segments: vec![
                Segment {
                    value: 2.0,
                    title: "Sales · 2026-03-02: 2 credits".into(),
                    href: "/x?teams=a".into(),
                },
                Segment {
                    value: 0.0,
                    title: "Other".into(),
                    href: "/x".into(),
                },
            ],
        }];
        let svg = stacked_bars("Credits per day", &bars).into_string();
        assert!(
            svg.contains("<title>Sales · 2026-03-02: 2 credits</title>"),
            "{svg}"
        );
        assert!(svg.contains("href=\"/x?teams=a\""), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 1, "{svg}");
    }
}
