//! The sign-in page. The collector sets an HttpOnly session cookie; the token in the answer is
//! dropped (never stored by the UI). After signing in the user returns to `?next=` (an in-app
//! path only, so the page cannot be used to bounce users to another site).

use crate::app::api::{self, ApiError};
use crate::app::ctx;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use tracewire_shared::api::{LoginRequest, LoginResponse};

/// Where to go after signing in: `next` when it is a path of this site, else the explorer.
fn safe_next(next: Option<String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/logs".to_owned(),
    }
}

/// The sign-in form.
#[component]
pub fn SignIn() -> impl IntoView {
    let ctx = ctx();
    let query = use_query_map();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let body = LoginRequest {
            username: username.get_untracked(),
            password: password.get_untracked(),
        };
        let next = safe_next(query.with_untracked(|q| q.get("next")));
        leptos::task::spawn_local(async move {
            match api::send_json::<_, LoginResponse>("POST", "/api/v1/auth/login", &body, false)
                .await
            {
                Ok(answer) => {
                    ctx.user.set(Some(answer.user));
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().assign(&next);
                    }
                }
                Err(ApiError::Unauthorized) => {
                    error.set(Some("Wrong username or password.".to_owned()));
                    busy.set(false);
                }
                Err(e) => {
                    error.set(Some(e.to_string()));
                    busy.set(false);
                }
            }
        });
    };
    let expired = move || query.with(|q| q.get("next").is_some());
    view! {
        <main id="main" class="signin">
            <form class="card" on:submit=submit aria-labelledby="signin-title">
                <h1 id="signin-title">"◆ Tracewire"</h1>
                <p class="muted">"Sign in to view logs, traces and exceptions."</p>
                <Show when=expired>
                    <p class="note" role="status">"Please sign in to continue where you were."</p>
                </Show>
                <label for="username">"Username"</label>
                <input id="username" name="username" autocomplete="username" required
                    prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev))/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))/>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button class="btn primary" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}
