//! The volume histogram above the results: `/logs/statistics` for the same filters and window,
//! one bar per bucket stacked by level. It loads and fails on its own (a failed chart never
//! blanks the table). Dragging across it zooms the view to the selected span.

use crate::app::api;
use crate::app::ctx;
use crate::app::routes::logs::ViewNav;
use crate::histogram::{Bar, bars, bucket_for, nice_max, zoom};
use crate::query::{LogQuery, TimeRange};
use crate::timefmt::{self, Precision, fixed2, percent};
use leptos::prelude::*;
use tracewire_shared::Level;
use tracewire_shared::api::Statistics;
use wasm_bindgen::JsCast;

/// Chart width in SVG units (the SVG scales to the panel).
const W: f64 = 1000.0;
/// Chart height in SVG units.
const H: f64 = 100.0;

fn bound(params: &[(String, String)], key: &str) -> Option<i64> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| timefmt::parse_us(v))
}

/// The histogram panel.
#[component]
pub fn Histogram(
    params: Memo<Vec<(String, String)>>,
    nav: ViewNav,
    view_q: Memo<LogQuery>,
) -> impl IntoView {
    let ctx = ctx();
    // The chart's own retry: reloads the chart alone, not the table.
    let retry = RwSignal::new(0u32);
    let stats = LocalResource::new(move || {
        let p = params.get();
        retry.track();
        async move {
            let (from, to) = (bound(&p, "from").unwrap_or(0), bound(&p, "to").unwrap_or(0));
            let (bucket, bucket_us) = bucket_for(to - from);
            let mut q = p.clone();
            q.push(("bucket".to_owned(), bucket.to_owned()));
            let s = api::get::<Statistics>("/api/v1/logging/logs/statistics", &q).await?;
            Ok::<_, api::ApiError>((bars(&s, from, to, bucket_us), from, to, s.total))
        }
    });
    let drag = RwSignal::new(None::<(f64, f64)>);
    let frac = |ev: &leptos::ev::MouseEvent| -> Option<f64> {
        let el = ev.current_target()?.dyn_into::<web_sys::Element>().ok()?;
        let r = el.get_bounding_client_rect();
        (r.width() > 0.0)
            .then(|| ((f64::from(ev.client_x()) - r.left()) / r.width()).clamp(0.0, 1.0))
    };
    let on_down = move |ev: leptos::ev::MouseEvent| {
        if ev.button() == 0
            && let Some(f) = frac(&ev)
        {
            ev.prevent_default();
            drag.set(Some((f, f)));
        }
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        if let (Some((a, _)), Some(f)) = (drag.get_untracked(), frac(&ev)) {
            drag.set(Some((a, f)));
        }
    };
    let on_up = move |_ev: leptos::ev::MouseEvent| {
        let Some((a, b)) = drag.get_untracked() else {
            return;
        };
        drag.set(None);
        if (a - b).abs() < 0.01 {
            return;
        }
        let p = params.get_untracked();
        if let (Some(from), Some(to)) = (bound(&p, "from"), bound(&p, "to")) {
            let (from_us, to_us) = zoom(from, to, a, b);
            let mut q = view_q.get_untracked();
            q.range = TimeRange::Absolute { from_us, to_us };
            nav.go(&q);
        }
    };
    view! {
        <section class="panel histogram" aria-label="Log volume over time">
            {move || match stats.get() {
                None => view! { <p class="loading" role="status">"Loading volume…"</p> }.into_any(),
                Some(Err(e)) => view! {
                    <div class="error-box" role="alert">
                        <p>{format!("Volume chart unavailable: {e}")}</p>
                        <button class="btn small" on:click=move |_| retry.update(|n| *n += 1)>"Retry chart"</button>
                    </div>
                }.into_any(),
                Some(Ok((bars, from, to, total))) => {
                    let top = nice_max(bars.iter().map(Bar::total).max().unwrap_or(0));
                    let n = bars.len().max(1) as f64;
                    let bw = W / n;
                    let rects = bars.iter().enumerate().flat_map(|(i, bar)| {
                        let mut y = H;
                        let x = i as f64 * bw;
                        let when = ctx.time(bar.start_us, Precision::Minutes);
                        bar.counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(li, c)| {
                            let h = (*c as f64 / top as f64) * H;
                            y -= h;
                            let level = Level::ALL[li].as_str();
                            view! {
                                <rect x=fixed2(x + bw * 0.1) y=fixed2(y)
                                    width=fixed2(bw * 0.8) height=fixed2(h)
                                    class=format!("h-{}", level.to_ascii_lowercase())>
                                    <title>{format!("{when}: {c} {level}")}</title>
                                </rect>
                            }
                        }).collect::<Vec<_>>()
                    }).collect_view();
                    view! {
                        <div class="hist-head">
                            <span>{format!("{total} logs in range")}</span>
                            <span class="muted">"Drag across the chart to zoom in"</span>
                            <span class="legend" aria-hidden="true">
                                {Level::ALL.iter().rev().map(|l| view! {
                                    <span class=format!("key lvl-{}", l.as_str().to_ascii_lowercase())>{l.as_str()}</span>
                                }).collect_view()}
                            </span>
                        </div>
                        <div class="hist-body">
                            <span class="ymax muted">{top.to_string()}</span>
                            <div class="chart" on:mousedown=on_down on:mousemove=on_move on:mouseup=on_up
                                on:mouseleave=move |_| drag.set(None)>
                                <svg viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" role="img"
                                    aria-label=format!("{total} logs between {} and {}", ctx.time(from, Precision::Minutes), ctx.time(to, Precision::Minutes))>
                                    {rects}
                                </svg>
                                {move || drag.get().map(|(a, b)| {
                                    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                                    view! { <div class="selection" style:left=percent(lo * 100.0)
                                        style:width=percent((hi - lo) * 100.0)></div> }
                                })}
                            </div>
                        </div>
                        <div class="hist-axis muted mono" aria-hidden="true">
                            <span>{ctx.time(from, Precision::Minutes)}</span>
                            <span>{ctx.time(from + (to - from) / 2, Precision::Minutes)}</span>
                            <span>{ctx.time(to, Precision::Minutes)}</span>
                        </div>
                    }.into_any()
                }
            }}
        </section>
    }
}
