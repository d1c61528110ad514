//! A collapsible, pretty JSON tree built from `<details>` elements (keyboard-operable and
//! announced by screen readers without extra code). Keys and values are text nodes.

use leptos::prelude::*;
use serde_json::Value;

/// Objects and arrays deeper than this start collapsed.
const OPEN_DEPTH: usize = 2;

/// A JSON value as a tree.
#[component]
pub fn JsonTree(value: Value) -> impl IntoView {
    view! { <div class="json mono">{node(None, value, 0)}</div> }
}

fn node(key: Option<String>, value: Value, depth: usize) -> AnyView {
    let label = key.map(|k| view! { <span class="j-key">{format!("{k}: ")}</span> });
    match value {
        Value::Object(map) => {
            let n = map.len();
            let children = map
                .into_iter()
                .map(|(k, v)| node(Some(k), v, depth + 1))
                .collect_view();
            view! {
                <details open=depth < OPEN_DEPTH>
                    <summary>{label}<span class="muted">{format!("{{…}} {n} key{}", if n == 1 { "" } else { "s" })}</span></summary>
                    <div class="j-children">{children}</div>
                </details>
            }
            .into_any()
        }
        Value::Array(items) => {
            let n = items.len();
            let children = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| node(Some(i.to_string()), v, depth + 1))
                .collect_view();
            view! {
                <details open=depth < OPEN_DEPTH>
                    <summary>{label}<span class="muted">{format!("[…] {n} item{}", if n == 1 { "" } else { "s" })}</span></summary>
                    <div class="j-children">{children}</div>
                </details>
            }
            .into_any()
        }
        Value::String(s) => view! { <div class="j-leaf">{label}<span class="j-str">{format!("\"{s}\"")}</span></div> }.into_any(),
        other => {
            let class = match other {
                Value::Null => "j-null",
                Value::Bool(_) => "j-bool",
                _ => "j-num",
            };
            view! { <div class="j-leaf">{label}<span class=class>{other.to_string()}</span></div> }.into_any()
        }
    }
}
