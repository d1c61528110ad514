//! One exception group (`/exceptions/{id}`): header with counts and status, the stack trace
//! with in-app frames shown and library frames collapsed, recent occurrences with links to their
//! traces, resolution notes, and (admins only) resolving with notes.

use super::exceptions::status_badge;
use crate::app::api;
use crate::app::components::State;
use crate::app::ctx;
use crate::text::frame_runs;
use crate::timefmt::Precision;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use tracewire_shared::api::{ExceptionGroup, ResolveRequest};

/// The exception detail page.
#[component]
pub fn ExceptionPage() -> impl IntoView {
    let ctx = ctx();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let reload = RwSignal::new(0u32);
    let detail = LocalResource::new(move || {
        let id = id.get();
        reload.get();
        async move { api::get_exception(&id).await }
    });
    view! {
        <section class="panel exception">
            <p><A href="/exceptions">"← All exceptions"</A></p>
            {move || match detail.get() {
                None => view! { <p class="loading" role="status">"Loading exception…"</p> }.into_any(),
                Some(Err(e)) => view! { <div class="error-box" role="alert"><p>{e.to_string()}</p></div> }.into_any(),
                Some(Ok(d)) => {
                    let g = d.group.clone();
                    view! {
                        <div class="page-head">
                            <h1><span class="exc-type">{g.exception_type.clone()}</span></h1>
                            {status_badge(&g)}
                        </div>
                        <p class="exc-msg big">{g.exception_message.clone()}</p>
                        <dl class="facts">
                            <div><dt>"Events"</dt><dd>{g.occurrence_count}</dd></div>
                            <div><dt>"First seen"</dt><dd>{ctx.api_time(&g.first_seen_at, Precision::Minutes)}</dd></div>
                            <div><dt>"Last seen"</dt><dd>{ctx.api_time(&g.last_seen_at, Precision::Minutes)}</dd></div>
                            <div><dt>"Source"</dt><dd>{g.source.clone()}</dd></div>
                            {g.request_path.clone().map(|p| view! { <div><dt>"Path"</dt><dd class="mono">{p}</dd></div> })}
                            <div><dt>"Fingerprint"</dt><dd class="mono small">{g.fingerprint.clone()}</dd></div>
                        </dl>
                        <Resolution group=g.clone() reload/>
                        <h2>"Stack trace"</h2>
                        <StackTrace stack=g.stack_trace.clone().unwrap_or_default()/>
                        <h2>"Recent occurrences"</h2>
                        <table class="occurrences">
                            <thead><tr>
                                <th scope="col">"Time"</th><th scope="col">"Message"</th>
                                <th scope="col">"User"</th><th scope="col">"Path"</th><th scope="col">"Trace"</th>
                            </tr></thead>
                            <tbody>
                                {d.recent_occurrences.into_iter().map(|o| view! {
                                    <tr>
                                        <td class="mono">{ctx.api_time(&o.timestamp, Precision::Millis)}</td>
                                        <td>{o.exception_message.clone()}</td>
                                        <td>{o.user_id.clone()}</td>
                                        <td class="mono">{o.request_path.clone()}</td>
                                        <td class="mono">{o.trace_id.clone().map(|t| view! {
                                            <A href=format!("/traces/{t}")>{t.chars().take(12).collect::<String>()}"…"</A>
                                        })}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// A stack trace: runs of in-app frames shown, runs of library frames folded.
#[component]
fn StackTrace(stack: String) -> impl IntoView {
    if stack.trim().is_empty() {
        return view! { <p class="muted">"No stack trace was recorded."</p> }.into_any();
    }
    view! {
        <div class="stack mono">
            {frame_runs(&stack).into_iter().map(|(in_app, lines)| {
                if in_app {
                    view! { <div class="frames app">{lines.into_iter().map(|l| view! { <div class="frame">{l}</div> }).collect_view()}</div> }.into_any()
                } else {
                    let n = lines.len();
                    view! {
                        <details class="frames lib">
                            <summary>{format!("{n} library frame{}", if n == 1 { "" } else { "s" })}</summary>
                            {lines.into_iter().map(|l| view! { <div class="frame">{l}</div> }).collect_view()}
                        </details>
                    }.into_any()
                }
            }).collect_view()}
        </div>
    }
    .into_any()
}

/// Resolution state and, for admins, the resolve form.
#[component]
fn Resolution(group: ExceptionGroup, reload: RwSignal<u32>) -> impl IntoView {
    let ctx = ctx();
    let notes = RwSignal::new(String::new());
    let state = RwSignal::new(State::Idle);
    let id = group.id;
    let resolve = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        state.set(State::Loading);
        let body = ResolveRequest {
            notes: Some(notes.get_untracked()).filter(|n| !n.trim().is_empty()),
        };
        leptos::task::spawn_local(async move {
            let path = format!("/api/v1/logging/exceptions/{id}/resolve");
            match api::send_json::<_, ExceptionGroup>("PUT", &path, &body, true).await {
                Ok(_) => {
                    state.set(State::Idle);
                    reload.update(|n| *n += 1);
                }
                Err(e) => state.set(State::Failed(e.to_string())),
            }
        });
    };
    let resolved = group.is_resolved.then(|| {
        view! {
            <div class="resolution">
                <p>
                    <strong>"Resolved"</strong>
                    {group.resolved_at.clone().map(|t| format!(" on {}", ctx.api_time(&t, Precision::Minutes)))}
                    {group.resolved_by.clone().map(|b| format!(" by {b}"))}
                </p>
                {group.resolution_notes.clone().map(|n| view! { <blockquote>{n}</blockquote> })}
            </div>
        }
    });
    let regressed = (!group.is_resolved).then_some(group.regressed_at.clone()).flatten().map(|t| {
        view! {
            <div class="resolution bad">
                <p><strong>"Regressed"</strong>{format!(" on {}: it occurred again after being resolved.", ctx.api_time(&t, Precision::Minutes))}</p>
                {group.resolution_notes.clone().map(|n| view! { <p class="muted">"Earlier notes:"</p><blockquote>{n}</blockquote> })}
            </div>
        }
    });
    let form = (!group.is_resolved && ctx.is_admin()).then(|| {
        view! {
            <form class="resolve" on:submit=resolve>
                <label for="notes">"Resolution notes"</label>
                <textarea id="notes" rows="3" placeholder="What fixed it (release, commit, ticket)…"
                    prop:value=move || notes.get() on:input=move |ev| notes.set(event_target_value(&ev))></textarea>
                <div class="row">
                    <button class="btn primary" type="submit" disabled=move || state.get() == State::Loading>"Resolve"</button>
                    {move || match state.get() {
                        State::Failed(m) => Some(view! { <span class="error" role="alert">{m}</span> }),
                        _ => None,
                    }}
                </div>
            </form>
        }
    });
    view! { {resolved}{regressed}{form} }
}
