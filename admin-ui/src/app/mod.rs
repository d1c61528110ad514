//! The Leptos application: the router, the session gate and the page shell (top bar with
//! navigation, the UTC/local toggle and sign-out). Pages live in `routes/`, shared pieces in
//! `components/`, HTTP in `api`.

pub mod api;
mod components;
mod routes;

use crate::timefmt::{self, Precision, Zone};
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, path};
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
    // Sign-in and the log explorer (the pages one lands on) are in the main module; every other
    // page is a lazy route whose code the build (`scripts/build-ui.sh`) splits into a wasm
    // module of its own, fetched on the first navigation to one of its pages. So the module a
    // browser downloads before the first page shows stays small however many pages the UI has.
    view! {
        <Router>
            <Routes fallback=|| view! { <Shell><NotFound/></Shell> }>
                <Route path=path!("/login") view=routes::login::SignIn/>
                <Route path=path!("/logs") view=|| view! { <Shell><routes::logs::Explorer/></Shell> }/>
                <Route path=path!("/") view={Lazy::<OverviewPage>::new()}/>
                <Route path=path!("/performance") view={Lazy::<MetricsPage>::new()}/>
                <Route path=path!("/alerts") view={Lazy::<AlertsPage>::new()}/>
                <Route path=path!("/alerts/history") view={Lazy::<AlertHistoryPage>::new()}/>
                <Route path=path!("/alerts/new") view={Lazy::<AlertFormPage>::new()}/>
                <Route path=path!("/alerts/:id") view={Lazy::<AlertFormPage>::new()}/>
                <Route path=path!("/traces/:trace_id") view={Lazy::<TracePage>::new()}/>
                <Route path=path!("/exceptions") view={Lazy::<ExceptionsPage>::new()}/>
                <Route path=path!("/exceptions/:id") view={Lazy::<ExceptionPage>::new()}/>
            </Routes>
        </Router>
    }
}

/// Declares a lazy route showing `$page` in the [`Shell`], its code split into the wasm module
/// `$module` by way of the split point `$view`. The route needs no data of its own (each page
/// loads what it shows), so only the view is deferred.
///
/// Pages are grouped by module instead of one module per page: code that several modules
/// share goes into a chunk of its own for each combination of modules using it, and a page
/// fetches all of its module's chunks. With one module per page that was 70 files, 27 of them
/// for the rule form; with three groups a page fetches four or fewer.
///
/// `fallible`: a module that does not load (network, or a tab older than the collector's UI,
/// whose chunks are then gone) shows [`PageNotLoaded`] instead of aborting the whole app;
/// the next navigation tries again.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path, in $module:ident via $view:ident) => {
        $(#[$doc])*
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                $view()
                    .await
                    .unwrap_or_else(|_| view! { <Shell><PageNotLoaded/></Shell> }.into_any())
            }
        }

        #[leptos::wasm_split::wasm_split($module, wasm_split_path = ::leptos::wasm_split, fallible)]
        fn $view() -> Result<AnyView, leptos::wasm_split::SplitLoaderError> {
            Ok(view! { <Shell>{$page()}</Shell> }.into_any())
        }
    };
}

/// Shown when a lazy page's module could not be fetched or instantiated.
#[component]
fn PageNotLoaded() -> impl IntoView {
    view! {
        <section class="panel empty" role="alert">
            <h1>"This page could not be loaded"</h1>
            <p>"Its code did not arrive, or the collector's UI was updated since this tab was opened."</p>
            <p><button class="btn" on:click=|_| {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            }>"Reload the page"</button></p>
        </section>
    }
}

lazy_page!(
    /// `/`: the overview.
    OverviewPage => routes::overview::Overview, in monitoring via overview_view
);
lazy_page!(
    /// `/performance`: request and query metrics.
    MetricsPage => routes::metrics::MetricsPage, in monitoring via metrics_view
);
lazy_page!(
    /// `/alerts`: the alert rules.
    AlertsPage => routes::alerts::AlertList, in alerting via alerts_view
);
lazy_page!(
    /// `/alerts/history`: fired and resolved alerts.
    AlertHistoryPage => routes::alert_history::AlertHistory, in alerting via alert_history_view
);
lazy_page!(
    /// `/alerts/new` and `/alerts/:id`: the rule form.
    AlertFormPage => routes::alert_form::AlertForm, in alerting via alert_form_view
);
lazy_page!(
    /// `/traces/:trace_id`: one trace's logs and exceptions.
    TracePage => routes::trace::TraceView, in investigation via trace_view
);
lazy_page!(
    /// `/exceptions`: the exception groups.
    ExceptionsPage => routes::exceptions::ExceptionList, in investigation via exceptions_view
);
lazy_page!(
    /// `/exceptions/:id`: one exception group.
    ExceptionPage => routes::exception::ExceptionPage, in investigation via exception_view
);

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
