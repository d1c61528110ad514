//! [`TraceLayer`]: the tower layer that gives every request a trace context, a `request` span,
//! echoed trace headers, exactly one request log, and exception capture for panics and 5xx.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::MatchedPath;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response, StatusCode};
use tower::{Layer, Service};
use tracewire_shared::traceparent::{TRACEPARENT_HEADER, TraceContext, X_TRACE_ID_HEADER};
use tracing::Instrument;

use crate::context::{self, ServerContext};
use crate::cors;
use crate::panic::{self, CatchPanic};
use crate::report::{self, Outcome, RequestInfo};
use crate::scope::{self, RequestScope};
use crate::shipper::Shipper;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Body of the 500 answered for a panic: the crate-wide error envelope, leaking nothing.
const PANIC_BODY: &str = r#"{"error":{"code":"internal","message":"internal error"}}"#;

/// Tower layer tracing every request of an axum (or any tower HTTP) service. Add it with
/// `Router::layer`; handlers read the hop's context with `Extension<TraceContext>`.
#[derive(Clone, Debug)]
pub struct TraceLayer {
    shipper: Shipper,
    allowed_origins: Arc<[String]>,
}

impl TraceLayer {
    /// A layer shipping its request logs and exceptions through `shipper`.
    pub fn new(shipper: Shipper) -> Self {
        panic::install_hook();
        Self {
            shipper,
            allowed_origins: Arc::from(Vec::new()),
        }
    }

    /// Origins (exact, like `https://app.example`, or `*`) whose browsers may send trace
    /// headers cross-origin: their preflights are answered with our headers allowed.
    pub fn allow_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`TraceLayer`] wraps around the application.
#[derive(Clone, Debug)]
pub struct TraceService<S> {
    inner: S,
    layer: TraceLayer,
}

impl<S, B, ResBody> Service<Request<B>> for TraceService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
    ResBody: axum::body::HttpBody<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let server = context::from_headers(request.headers());
        let info = RequestInfo {
            method: request.method().as_str().to_owned(),
            path: request.uri().path().to_owned(),
            route: request
                .extensions()
                .get::<MatchedPath>()
                .map(|m| m.as_str().to_owned()),
            server,
            started: Instant::now(),
        };
        let cors = cors::classify(&request, &self.layer.allowed_origins);
        request.extensions_mut().insert(server.ctx);

        let span = tracing::info_span!(
            "request",
            trace_id = %server.ctx.trace_id,
            span_id = %server.ctx.span_id,
            method = %info.method,
            path = %info.path,
            route = tracing::field::Empty,
        );
        if let Some(route) = &info.route {
            span.record("route", route.as_str());
        }
        let scope = Arc::new(RequestScope {
            trace_id: server.ctx.trace_id.to_string(),
            span_id: server.ctx.span_id.to_string(),
            method: info.method.clone(),
            path: info.path.clone(),
            route: info.route.clone().unwrap_or_default(),
        });

        // The ready service handles this request; a clone takes its place for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let call = {
            let _entered = span.enter();
            scope::enter(&scope, || panic::catch(move || inner.call(request)))
        };
        let mut record = RequestRecord {
            shipper: self.layer.shipper.clone(),
            info,
            done: false,
        };
        let future = async move {
            let outcome = match call {
                Ok(future) => {
                    Scoped {
                        scope,
                        inner: CatchPanic::new(future),
                    }
                    .await
                }
                Err(caught) => Err(caught),
            };
            let mut response = match outcome {
                Ok(Ok(response)) => response.map(Body::new),
                Ok(Err(error)) => {
                    record.finish(Outcome::ServiceError);
                    return Err(error);
                }
                Err(caught) => {
                    let response = panic_response();
                    record.finish(Outcome::Panic(caught));
                    response
                }
            };
            cors::apply(&mut response, &cors);
            echo_trace_headers(&mut response, &server);
            if !record.done {
                record.finish(Outcome::Status(response.status().as_u16()));
            }
            Ok(response)
        };
        Box::pin(future.instrument(span))
    }
}

/// Sets `traceparent` (our span) and `X-Trace-Id` on the response.
fn echo_trace_headers(response: &mut Response<Body>, server: &ServerContext) {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&server.ctx.to_string()) {
        headers.insert(TRACEPARENT_HEADER, value);
    }
    if let Ok(value) = HeaderValue::from_str(&server.ctx.trace_id.to_string()) {
        headers.insert(X_TRACE_ID_HEADER, value);
    }
}

/// The 500 answered for a panic.
fn panic_response() -> Response<Body> {
    let mut response = Response::new(Body::from(PANIC_BODY));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Guarantees exactly one request log per request: written on completion, or on drop when the
/// request future is cancelled before it completes.
struct RequestRecord {
    shipper: Shipper,
    info: RequestInfo,
    done: bool,
}

impl RequestRecord {
    fn finish(&mut self, outcome: Outcome) {
        if self.done {
            return;
        }
        self.done = true;
        let log = report::request_log(&self.info, &outcome);
        report::emit_local_event(&log);
        self.shipper.push_log(log);
        if let Some(exception) = report::exception(&self.info, &outcome) {
            self.shipper.push_exception(exception);
        }
    }
}

impl Drop for RequestRecord {
    fn drop(&mut self) {
        self.finish(Outcome::Cancelled);
    }
}

/// Polls a request future with its [`RequestScope`] current on the thread.
struct Scoped<F> {
    scope: Arc<RequestScope>,
    inner: F,
}

impl<F: Future + Unpin> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let inner = Pin::new(&mut this.inner);
        scope::enter(&this.scope, || inner.poll(cx))
    }
}

/// Reads the trace context [`TraceLayer`] put into a request, for code that has the request
/// but not an extractor.
pub fn trace_context<B>(request: &Request<B>) -> Option<TraceContext> {
    request.extensions().get::<TraceContext>().copied()
}
