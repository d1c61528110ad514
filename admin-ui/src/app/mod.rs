//! The Leptos application: the router, the session gate and the page shell (top bar with
//! navigation, the UTC/local toggle and sign-out). Pages live in `routes/`, shared pieces in
//! `components/`, HTTP in `api`.

pub mod api;
mod components;
mod routes;

use crate::timefmt::{self, Precision, Zone};
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;
use tracewire_shared::api::{Me, Role, User};
use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point called by the generated JS loader once the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}

/// What every page may ask of the session: who is signed in and how times are shown.
#[derive(Clone, Copy)]
pub struct Ctx {
    /// The signed-in user; `None` until `/auth/me` answered (or on the sign-in page).
    pub user: RwSignal<Option<User>>,
    /// Times in UTC rather than the browser's zone (the explorer keeps it in its URL too).
    pub utc: RwSignal<bool>,
}

impl Ctx {
    /// Whether the signed-in user may change things (viewers see no edit controls).
    pub fn is_admin(&self) -> bool {
        self.user
            .with(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin))
    }

    /// Formats µs with the session's zone choice (the UI's one time formatter).
    pub fn time(&self, us: i64, precision: Precision) -> String {
        let zone = if self.utc.get() {
            Zone::Utc
        } else {
            Zone::Local(api::local_offset_min(us))
        };
        timefmt::format_us(us, zone, precision)
    }

    /// Formats an API time string like [`Ctx::time`] (unparsable ones are shown as they are).
    pub fn api_time(&self, s: &str, precision: Precision) -> String {
        timefmt::parse_us(s).map_or_else(|| s.to_owned(), |us| self.time(us, precision))
    }
}

/// The context of the running app.
pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

#[component]
fn App() -> impl IntoView {
    let ctx = Ctx {
        user: RwSignal::new(None),
        utc: RwSignal::new(false),
    };
    provide_context(ctx);
    view! {
        <Router>
            <Routes fallback=|| view! { <Shell><NotFound/></Shell> }>
                <Route path=path!("/login") view=routes::login::SignIn/>
                <Route path=path!("/") view=|| view! { <Shell><routes::overview::Overview/></Shell> }/>
                <Route path=path!("/performance") view=|| view! { <Shell><routes::metrics::MetricsPage/></Shell> }/>
                <Route path=path!("/alerts") view=|| view! { <Shell><routes::alerts::AlertList/></Shell> }/>
                <Route path=path!("/alerts/history") view=|| view! { <Shell><routes::alert_history::AlertHistory/></Shell> }/>
                <Route path=path!("/alerts/new") view=|| view! { <Shell><routes::alert_form::AlertForm/></Shell> }/>
                <Route path=path!("/alerts/:id") view=|| view! { <Shell><routes::alert_form::AlertForm/></Shell> }/>
                <Route path=path!("/logs") view=|| view! { <Shell><routes::logs::Explorer/></Shell> }/>
                <Route path=path!("/traces/:trace_id") view=|| view! { <Shell><routes::trace::TraceView/></Shell> }/>
                <Route path=path!("/exceptions") view=|| view! { <Shell><routes::exceptions::ExceptionList/></Shell> }/>
                <Route path=path!("/exceptions/:id") view=|| view! { <Shell><routes::exception::ExceptionPage/></Shell> }/>
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="panel empty">
            <h1>"Page not found"</h1>
            <p><A href="/">"Go to the overview"</A></p>
        </section>
    }
}

/// Signed-in pages: asks `/auth/me` once (a 401 leaves for sign-in with the URL kept), then
/// shows the top bar and the page.
#[component]
fn Shell(children: ChildrenFn) -> impl IntoView {
    let ctx = ctx();
    if ctx.user.get_untracked().is_none() {
        leptos::task::spawn_local(async move {
            if let Ok(me) = api::get::<Me>("/api/v1/auth/me", &[]).await {
                ctx.user.set(Some(me.user));
            }
        });
    }
    let sign_out = move |_| {
        leptos::task::spawn_local(async move {
            let _ = api::send_raw("POST", "/api/v1/auth/logout", None, false).await;
            ctx.user.set(None);
            if let Some(w) = web_sys::window() {
                let _ = w.location().assign("/login");
            }
        });
    };
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="topbar">
            <span class="brand" aria-hidden="true">"◆ Tracewire"</span>
            <nav aria-label="Main">
                <A href="/" exact=true>"Overview"</A>
                <A href="/logs">"Logs"</A>
                <A href="/exceptions">"Exceptions"</A>
                <A href="/performance">"Metrics"</A>
                <A href="/alerts">"Alerts"</A>
            </nav>
            <div class="spacer"></div>
            <label class="toggle">
                <input type="checkbox" prop:checked=move || ctx.utc.get()
                    on:change=move |ev| ctx.utc.set(event_target_checked(&ev))/>
                "UTC"
            </label>
            <span class="who">
                {move || ctx.user.get().map(|u| format!("{} ({})", u.username,
                    if u.role == Role::Admin { "admin" } else { "viewer" }))}
            </span>
            <button class="btn ghost" on:click=sign_out>"Sign out"</button>
        </header>
        <main id="main" tabindex="-1">
            {move || if ctx.user.get().is_some() {
                children().into_any()
            } else {
                view! { <p class="loading" role="status">"Checking your session…"</p> }.into_any()
            }}
        </main>
    }
}
