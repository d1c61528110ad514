//! A time-series line chart drawn as SVG: y ticks from [`crate::chart`], one polyline per line
//! (broken where a bucket has no data), a hover/keyboard read-out and a cursor shared with the
//! other charts of the page (one `RwSignal` of the time under the pointer). Clicking a point,
//! or Enter on the focused chart, picks that bucket. Not generic: each chart is the same code.

use crate::app::ctx;
use crate::chart::{Scale, nearest, nice_ticks, polyline, segments, tick_label, time_x};
use crate::timefmt::{self, Precision, fixed2, percent};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Width of the plot in SVG units (the SVG stretches to the panel).
const W: f64 = 1000.0;
/// Height of the plot in SVG units.
const H: f64 = 160.0;

/// How a chart's values read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Requests per second.
    PerSecond,
    /// A ratio shown as a percentage.
    Ratio,
    /// Milliseconds.
    Ms,
}

/// A value as the read-out and the axis show it.
pub fn format_value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::PerSecond => format!("{}/s", tick_label(v)),
        Unit::Ratio => format!("{}%", tick_label(v * 100.0)),
        Unit::Ms if v == 0.0 => "0 ms".to_owned(),
        Unit::Ms => timefmt::format_ms(v),
    }
}

/// One line: its legend label, CSS class (colour) and a value per bucket (`None`: no data).
#[derive(Clone)]
pub struct Line {
    /// Legend label.
    pub label: &'static str,
    /// CSS class giving the stroke colour.
    pub class: &'static str,
    /// One per bucket start.
    pub values: Vec<Option<f64>>,
}

/// The chart panel.
#[component]
pub fn LineChart(
    /// Heading of the panel.
    title: &'static str,
    /// How values read.
    unit: Unit,
    /// Bucket starts, µs, increasing.
    starts: Vec<i64>,
    /// The lines.
    lines: Vec<Line>,
    /// Window start (left edge), µs.
    from: i64,
    /// Window end (right edge), µs.
    to: i64,
    /// The time under the pointer, shared by the page's charts.
    cursor: RwSignal<Option<i64>>,
    /// Called with a bucket start when one is picked.
    on_pick: Callback<i64>,
) -> impl IntoView {
    let ctx = ctx();
    let max = lines
        .iter()
        .flat_map(|l| l.values.iter().flatten().copied())
        .fold(0.0f64, f64::max);
    let ticks = nice_ticks(0.0, max, 4);
    let scale = Scale::for_ticks(&ticks, H, 0.0);
    let xs: Vec<f64> = starts
        .iter()
        .map(|s| time_x(*s, from, to, 0.0, W))
        .collect();
    let has_data = lines.iter().any(|l| l.values.iter().any(Option::is_some));
    let paths = lines
        .iter()
        .flat_map(|l| {
            segments(&xs, &l.values, &scale)
                .into_iter()
                .map(move |seg| {
                    if seg.len() == 1 {
                        view! { <circle class=l.class cx=fixed2(seg[0].0) cy=fixed2(seg[0].1) r="2.5"/> }
                            .into_any()
                    } else {
                        view! { <polyline class=l.class points=polyline(&seg)
                            vector-effect="non-scaling-stroke"/> }
                        .into_any()
                    }
                })
        })
        .collect_view();
    let grid = ticks
        .iter()
        .map(|t| {
            let y = fixed2(scale.px(*t));
            view! { <line class="grid" x1="0" x2=W.to_string() y1=y.clone() y2=y vector-effect="non-scaling-stroke"/> }
        })
        .collect_view();
    let labels = ticks
        .iter()
        .rev()
        .map(|t| view! { <span>{format_value(*t, unit)}</span> })
        .collect_view();
    let starts2 = starts.clone();
    let index = Memo::new(move |_| cursor.get().and_then(|us| nearest(&starts2, us)));
    let frac = |ev: &leptos::ev::MouseEvent| -> Option<f64> {
        let el = ev.current_target()?.dyn_into::<web_sys::Element>().ok()?;
        let r = el.get_bounding_client_rect();
        (r.width() > 0.0)
            .then(|| ((f64::from(ev.client_x()) - r.left()) / r.width()).clamp(0.0, 1.0))
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        if let Some(f) = frac(&ev) {
            cursor.set(Some(crate::chart::time_at(f, from, to)));
        }
    };
    let starts3 = starts.clone();
    let pick = move || {
        if let Some(i) = index.get_untracked()
            && let Some(s) = starts3.get(i)
        {
            on_pick.run(*s);
        }
    };
    let pick2 = pick.clone();
    let starts4 = starts.clone();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let n = starts4.len();
        if n == 0 {
            return;
        }
        let i = index.get_untracked();
        let next = match ev.key().as_str() {
            "ArrowRight" => Some(i.map_or(0, |i| (i + 1).min(n - 1))),
            "ArrowLeft" => Some(i.map_or(n - 1, |i| i.saturating_sub(1))),
            "Home" => Some(0),
            "End" => Some(n - 1),
            "Enter" => {
                pick2();
                None
            }
            "Escape" => {
                cursor.set(None);
                None
            }
            _ => return,
        };
        ev.prevent_default();
        if let Some(j) = next {
            cursor.set(Some(starts4[j]));
        }
    };
    let lines2 = lines.clone();
    let starts5 = starts.clone();
    let readout = move || {
        let i = index.get()?;
        let at = *starts5.get(i)?;
        let values = lines2
            .iter()
            .map(|l| {
                let v = l.values.get(i).copied().flatten();
                view! { <span class=format!("key {}", l.class)>{format!("{} {}", l.label,
                v.map_or("no data".to_owned(), |v| format_value(v, unit)))}</span> }
            })
            .collect_view();
        Some(view! {
            <div class="readout" role="status">
                <span class="mono">{ctx.time(at, Precision::Minutes)}</span>
                {values}
            </div>
        })
    };
    let cursor_line = move || {
        let i = index.get()?;
        let x = time_x(*starts.get(i)?, from, to, 0.0, 100.0);
        Some(view! { <div class="cursor" style:left=percent(x)></div> })
    };
    let legend = lines
        .iter()
        .map(|l| view! { <span class=format!("key {}", l.class)>{l.label}</span> })
        .collect_view();
    let label = format!(
        "{title}, {} to {}. Arrow keys move the read-out, Enter opens the logs of that minute.",
        ctx.time(from, Precision::Minutes),
        ctx.time(to, Precision::Minutes)
    );
    view! {
        <section class="panel linechart" aria-label=title>
            <div class="chart-head">
                <h2>{title}</h2>
                <span class="legend" aria-hidden="true">{legend}</span>
            </div>
            {move || match readout() {
                Some(v) => v.into_any(),
                None => view! { <div class="readout muted" role="status">
                    <span>"Point at the chart (or focus it and use the arrow keys) for values"</span></div> }.into_any(),
            }}
            <div class="chart-body">
                <div class="yaxis muted mono" aria-hidden="true">{labels}</div>
                <div class="plot" tabindex="0" role="group" aria-roledescription="chart" aria-label=label
                    on:mousemove=on_move on:mouseleave=move |_| cursor.set(None)
                    on:click=move |_| pick() on:keydown=on_key>
                    <svg viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" aria-hidden="true">
                        {grid}
                        {paths}
                    </svg>
                    {cursor_line}
                    {(!has_data).then(|| view! { <p class="nodata muted">"No data in this range"</p> })}
                </div>
            </div>
            <div class="hist-axis muted mono" aria-hidden="true">
                <span>{ctx.time(from, Precision::Minutes)}</span>
                <span>{ctx.time(from + (to - from) / 2, Precision::Minutes)}</span>
                <span>{ctx.time(to, Precision::Minutes)}</span>
            </div>
        </section>
    }
}
