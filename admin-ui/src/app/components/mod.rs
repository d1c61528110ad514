//! Pieces shared by the pages. Every log value reaches the DOM as a text node or an attribute
//! value set through the DOM API (never as HTML), so stored markup or `javascript:` URLs show as
//! text and run nothing.

pub mod details;
pub mod fetch;
pub mod histogram;
pub mod json;
pub mod linechart;
pub mod tail;

use crate::app::api;
use crate::text::highlight;
use leptos::prelude::*;
use tracewire_shared::api::ExportRequest;
use wasm_bindgen::JsCast;

/// Progress of a follow-up request (paging, resolving).
#[derive(Clone, PartialEq)]
pub enum State {
    /// Nothing in flight.
    Idle,
    /// In flight.
    Loading,
    /// Failed with this message.
    Failed(String),
}

/// A level name in its colour.
#[component]
pub fn LevelBadge(level: String) -> impl IntoView {
    let class = format!("lvl lvl-{}", level.to_ascii_lowercase());
    view! { <span class=class>{level}</span> }
}

/// A message with the search term marked (still text: `<mark>` wraps text nodes).
#[component]
pub fn Message(text: String, #[prop(into)] term: Signal<String>) -> impl IntoView {
    view! {
        <span class="msg">
            {move || highlight(&text, &term.get()).into_iter().map(|(piece, hit)| {
                if hit {
                    view! { <mark>{piece}</mark> }.into_any()
                } else {
                    piece.into_any()
                }
            }).collect_view()}
        </span>
    }
}

/// Downloads the logs matching `params` in `format` (`json`, `csv`, `txt`) through the export
/// endpoint, streamed by the collector and saved by the browser.
pub fn export_logs(params: Vec<(String, String)>, format: &'static str) {
    let body = ExportRequest {
        filters: crate::query::export_filters(params),
        format: format.to_owned(),
    };
    leptos::task::spawn_local(async move {
        let Ok(text) = serde_json::to_string(&body) else {
            return;
        };
        let Ok(response) =
            api::send_raw("POST", "/api/v1/logging/logs/export", Some(text), true).await
        else {
            return;
        };
        let Ok(promise) = response.blob() else { return };
        let Ok(blob) = wasm_bindgen_futures::JsFuture::from(promise).await else {
            return;
        };
        let Ok(blob) = blob.dyn_into::<web_sys::Blob>() else {
            return;
        };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            return;
        };
        let ext = if format == "json" { "jsonl" } else { format };
        if let Ok(a) = document().create_element("a")
            && let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>()
        {
            a.set_href(&url);
            a.set_download(&format!("tracewire-logs.{ext}"));
            a.click();
        }
        let _ = web_sys::Url::revoke_object_url(&url);
    });
}
