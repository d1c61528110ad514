//! Live tail over the collector's SSE stream (`/api/v1/logging/logs/stream`) with the view's
//! filters (not its time range: the tail is "from now on"). New rows are appended at the bottom
//! and highlighted; the list follows new rows only while scrolled to the bottom, so reading
//! older rows is never interrupted (a "N new below" button counts what arrived meanwhile and
//! jumps there). Pause keeps receiving (rows wait in a buffer), Clear empties
//! the list. The browser's EventSource reconnects by itself after a dropped connection; when it
//! gives up (a refused answer), the tail opens a new one after a pause, so a restarted collector
//! is picked up again.

use super::{LevelBadge, Message};
use crate::app::api;
use crate::app::ctx;
use crate::query::LogQuery;
use crate::timefmt::Precision;
use leptos::prelude::*;
use tracewire_shared::api::{LogView, Me};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

/// Rows kept in the list; older ones are dropped.
const KEEP: usize = 2000;

/// Connection state shown to the user.
#[derive(Clone, Copy, PartialEq)]
enum Conn {
    Connecting,
    Open,
    Reconnecting,
}

/// The tail's reactive handles (all `Copy`), shared by the EventSource callbacks.
#[derive(Clone, Copy)]
struct Tail {
    view_q: Memo<LogQuery>,
    rows: RwSignal<Vec<LogView>>,
    waiting: RwSignal<Vec<LogView>>,
    paused: RwSignal<bool>,
    conn: RwSignal<Conn>,
    /// Rows that arrived while the list was scrolled up.
    unseen: RwSignal<usize>,
    list: NodeRef<leptos::html::Div>,
    source: StoredValue<Option<EventSource>, LocalStorage>,
    alive: StoredValue<bool>,
}

impl Tail {
    /// Appends rows; follows them only when the list was scrolled to the bottom.
    fn push(self, mut new: Vec<LogView>) {
        let el = self.list.get_untracked();
        let at_bottom = el
            .as_ref()
            .is_none_or(|e| e.scroll_top() + e.client_height() >= e.scroll_height() - 24);
        let added = self.rows.try_update(|r| {
            // A reconnected stream may send rows already shown; each row is shown once.
            new.retain(|l| !r.iter().rev().take(KEEP).any(|x| x.id == l.id));
            let added = new.len();
            r.append(&mut new);
            if r.len() > KEEP {
                let extra = r.len() - KEEP;
                r.drain(..extra);
            }
            added
        });
        if !at_bottom && let Some(n) = added {
            let _ = self.unseen.try_update(|u| *u += n);
        }
        if at_bottom && let Some(e) = el {
            request_animation_frame(move || e.set_scroll_top(e.scroll_height()));
        }
    }

    /// Opens a stream with the current filters, closing the previous one.
    fn connect(self) {
        if !self.alive.try_get_value().unwrap_or(false) {
            return;
        }
        if let Some(old) = self.source.try_update_value(Option::take).flatten() {
            old.close();
        }
        let params: Vec<(String, String)> = self
            .view_q
            .with_untracked(|q| q.api_params(api::now_us()))
            .into_iter()
            .filter(|(k, _)| k != "from" && k != "to")
            .collect();
        let url = api::with_params("/api/v1/logging/logs/stream", &params);
        let Ok(es) = EventSource::new(&url) else {
            return;
        };
        self.conn.set(Conn::Connecting);
        let on_log = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
            let Some(text) = ev.data().as_string() else {
                return;
            };
            let Ok(log) = serde_json::from_str::<LogView>(&text) else {
                return;
            };
            if self.paused.try_get_untracked().unwrap_or(false) {
                let _ = self.waiting.try_update(|w| w.push(log));
            } else {
                self.push(vec![log]);
            }
        });
        let _ = es.add_event_listener_with_callback("log", on_log.as_ref().unchecked_ref());
        on_log.forget();
        let on_open = Closure::<dyn Fn()>::new(move || {
            let _ = self.conn.try_set(Conn::Open);
        });
        es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();
        let es2 = es.clone();
        let on_error = Closure::<dyn Fn()>::new(move || {
            let _ = self.conn.try_set(Conn::Reconnecting);
            if es2.ready_state() == EventSource::CLOSED {
                // Refused (the session ended, or the collector answered an error while
                // starting): a session check sends an expired user to sign-in; else retry.
                leptos::task::spawn_local(async move {
                    let _ = api::get::<Me>("/api/v1/auth/me", &[]).await;
                });
                set_timeout(move || self.connect(), std::time::Duration::from_secs(3));
            }
        });
        es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        self.source.set_value(Some(es));
    }
}

/// The live tail panel.
#[component]
pub fn LiveTail(view_q: Memo<LogQuery>) -> impl IntoView {
    let ctx = ctx();
    let t = Tail {
        view_q,
        rows: RwSignal::new(Vec::new()),
        waiting: RwSignal::new(Vec::new()),
        paused: RwSignal::new(false),
        conn: RwSignal::new(Conn::Connecting),
        unseen: RwSignal::new(0),
        list: NodeRef::new(),
        source: StoredValue::new_local(None),
        alive: StoredValue::new(true),
    };
    let (rows, waiting, paused, conn, list, unseen) =
        (t.rows, t.waiting, t.paused, t.conn, t.list, t.unseen);
    // Reaching the bottom (by scrolling or the button) counts every row as seen.
    let on_scroll = move |_| {
        if let Some(e) = list.get_untracked()
            && e.scroll_top() + e.client_height() >= e.scroll_height() - 24
        {
            unseen.set(0);
        }
    };
    let jump = move |_| {
        if let Some(e) = list.get_untracked() {
            e.set_scroll_top(e.scroll_height());
        }
        unseen.set(0);
    };
    // (Re)connects whenever the filters change; closes when the panel goes away.
    Effect::new(move |_| {
        view_q.with(|q| {
            (
                q.levels.clone(),
                q.fields.clone(),
                q.excludes.clone(),
                q.q.clone(),
            )
        });
        t.connect();
    });
    on_cleanup(move || {
        t.alive.set_value(false);
        if let Some(es) = t.source.try_update_value(Option::take).flatten() {
            es.close();
        }
    });
    let toggle_pause = move |_| {
        if paused.get_untracked() {
            paused.set(false);
            let w = std::mem::take(&mut *waiting.write());
            t.push(w);
        } else {
            paused.set(true);
        }
    };
    let term = Memo::new(move |_| view_q.with(|q| q.q.clone()));
    view! {
        <section class="panel results live" aria-label="Live tail">
            <div class="results-head">
                <span class=move || match conn.get() { Conn::Open => "dot ok", Conn::Connecting => "dot", Conn::Reconnecting => "dot bad" }
                    aria-hidden="true"></span>
                <span role="status">{move || match conn.get() {
                    Conn::Open => "Live: new logs appear below",
                    Conn::Connecting => "Connecting…",
                    Conn::Reconnecting => "Connection lost, reconnecting…",
                }}</span>
                <span class="muted">{move || {
                    let n = waiting.with(Vec::len);
                    if paused.get() { format!(" · paused, {n} new waiting") } else { String::new() }
                }}</span>
                <div class="spacer"></div>
                <Show when=move || { unseen.get() > 0 }>
                    <button class="btn small primary" on:click=jump title="Scroll to the newest logs">
                        {move || format!("{} new below ↓", unseen.get())}
                    </button>
                </Show>
                <button class="btn small" on:click=toggle_pause>{move || if paused.get() { "Resume" } else { "Pause" }}</button>
                <button class="btn small" on:click=move |_| { rows.set(Vec::new()); waiting.set(Vec::new()); unseen.set(0); }>"Clear"</button>
            </div>
            <div class="tail-list" node_ref=list tabindex="0" aria-label="Live logs" aria-live="off" on:scroll=on_scroll>
                <Show when=move || !rows.with(Vec::is_empty)
                    fallback=|| view! { <p class="empty muted">"Waiting for new logs matching these filters…"</p> }>
                    <table class="logs">
                        <tbody>
                            <For each=move || rows.get() key=|l| l.id let:log>
                                <tr class=format!("new lvl-{}", log.level.to_ascii_lowercase())>
                                    <td class="c-level"><LevelBadge level=log.level.clone()/></td>
                                    <td class="c-time mono">{ctx.api_time(&log.timestamp, Precision::Millis)}</td>
                                    <td class="c-source">{log.source.clone()}</td>
                                    <td class="c-msg"><Message text=log.message.clone() term/></td>
                                </tr>
                            </For>
                        </tbody>
                    </table>
                </Show>
            </div>
        </section>
    }
}
