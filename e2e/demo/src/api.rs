//! The shop's JSON API. Every handler runs inside the middleware's request span, so the
//! `tracing` events below carry the trace id the browser sent in `traceparent`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Json, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Longest sleep `/api/slow` accepts, so a typo cannot hold a connection for hours.
const MAX_SLOW_MS: u64 = 10_000;

/// One thing the shop sells.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Product {
    /// Id the page sends back when buying.
    pub id: u32,
    /// Display name.
    pub name: &'static str,
    /// Price in cents, so no float rounding in totals.
    pub price_cents: u32,
}

/// The catalogue; fixed, the demo has no database.
pub const PRODUCTS: &[Product] = &[
    Product {
        id: 1,
        name: "Trace-dyed T-shirt",
        price_cents: 2400,
    },
    Product {
        id: 2,
        name: "Span mug",
        price_cents: 1200,
    },
    Product {
        id: 3,
        name: "Wasm sticker pack",
        price_cents: 500,
    },
];

/// Order numbers; process-local, good enough for a demo.
static NEXT_ORDER: AtomicU64 = AtomicU64::new(1000);

/// The API routes, at their full `/api/...` paths so request logs show the path the browser used.
pub fn router() -> Router {
    Router::new()
        .route("/api/products", get(list_products))
        .route("/api/orders", post(create_order))
        .route("/api/checkout/fail", post(fail_checkout))
        .route("/api/slow", get(get_slow))
        .route("/api/panic", get(get_panic))
}

/// What can go wrong in the API; answered as the project's error envelope.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request body or query did not parse.
    #[error("{0}")]
    BadRequest(String),
    /// The order names a product that does not exist.
    #[error("no product with id {0}")]
    UnknownProduct(u32),
    /// The (simulated) payment provider refused; the demo's failing action.
    #[error("payment provider declined the card")]
    PaymentDeclined,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::UnknownProduct(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::PaymentDeclined => (StatusCode::BAD_GATEWAY, "payment_declined"),
        };
        let body = json!({ "error": { "code": code, "message": self.to_string() } });
        (status, Json(body)).into_response()
    }
}

async fn list_products() -> Json<&'static [Product]> {
    tracing::info!(count = PRODUCTS.len(), "listing products");
    Json(PRODUCTS)
}

/// Body of `POST /api/orders`.
#[derive(Debug, Deserialize)]
pub struct OrderRequest {
    /// Which product.
    pub product_id: u32,
    /// How many; 1 when omitted.
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

async fn create_order(
    body: Result<Json<OrderRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Json(order) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if !(1..=99).contains(&order.quantity) {
        return Err(ApiError::BadRequest("quantity must be 1 to 99".into()));
    }
    let product = PRODUCTS
        .iter()
        .find(|p| p.id == order.product_id)
        .ok_or(ApiError::UnknownProduct(order.product_id))?;
    let order_id = NEXT_ORDER.fetch_add(1, Ordering::Relaxed);
    let total_cents = u64::from(product.price_cents) * u64::from(order.quantity);
    tracing::info!(
        order_id,
        product = product.name,
        quantity = order.quantity,
        total_cents,
        "order placed"
    );
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "order_id": order_id, "product": product.name, "quantity": order.quantity, "total_cents": total_cents }),
        ),
    ))
}

async fn fail_checkout() -> ApiError {
    tracing::error!(
        provider = "demo-pay",
        reason = "insufficient_funds",
        "payment provider declined the card"
    );
    ApiError::PaymentDeclined
}

/// Query of `GET /api/slow`.
#[derive(Debug, Deserialize)]
pub struct SlowQuery {
    /// Milliseconds to wait; 1500 when omitted, at most [`MAX_SLOW_MS`].
    pub ms: Option<u64>,
}

async fn get_slow(
    query: Result<Query<SlowQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let ms = query.ms.unwrap_or(1500).min(MAX_SLOW_MS);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    tracing::info!(ms, "slow request done");
    Ok(Json(json!({ "slept_ms": ms })))
}

async fn get_panic() -> &'static str {
    // The middleware turns this into a 500 and reports it as an exception with a backtrace.
    panic!("inventory index out of range (demo panic)")
}
