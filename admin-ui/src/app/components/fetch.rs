//! One resource type for every JSON read of the newer pages: a resource is keyed by a memo of
//! (path, query) and yields the body as text, decoded where it is shown. Every
//! `LocalResource::new` with its own async block monomorphises the async machinery again (a
//! few KB of wasm each); this way it exists once, and only the small decode step is per type.

use crate::app::api::{self, ApiError};
use leptos::prelude::*;
use serde::de::DeserializeOwned;

/// A request: path, query parameters, and a reload counter (not sent) so asking again for the
/// same URL is a change the memo passes on.
pub type Req = (String, Vec<(String, String)>, u32);

/// The body of `GET path?query` as text, refetched whenever `req` changes.
pub fn json_resource(req: Memo<Req>) -> LocalResource<Result<String, ApiError>> {
    LocalResource::new(move || {
        let (path, params, _) = req.get();
        async move {
            let response =
                api::send_raw("GET", &api::with_params(&path, &params), None, true).await?;
            api::text_of(&response).await
        }
    })
}

/// Both answers, or the first failure (`None` while either loads).
pub fn pair<A, B>(
    a: Option<Result<A, ApiError>>,
    b: Option<Result<B, ApiError>>,
) -> Option<Result<(A, B), ApiError>> {
    match (a, b) {
        (Some(Err(e)), _) | (_, Some(Err(e))) => Some(Err(e)),
        (Some(Ok(a)), Some(Ok(b))) => Some(Ok((a, b))),
        _ => None,
    }
}

/// The resource's current answer decoded as `T` (`None` while loading).
pub fn decoded<T: DeserializeOwned>(
    r: &LocalResource<Result<String, ApiError>>,
) -> Option<Result<T, ApiError>> {
    r.get().map(|r| {
        r.and_then(|text| serde_json::from_str(&text).map_err(|e| ApiError::Decode(e.to_string())))
    })
}
