//! [`ApiPaging`]: the `page` / `page_size` query parameters of every listing, validated by the
//! one [`Paging`] rule; out-of-bounds values are a 400 naming the bounds.

use super::error::ApiError;
use crate::store::Paging;
use crate::store::paging::PagingParams;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;

/// A validated page request, read from the query string (other parameters are left to the
/// handler's own query extractor).
pub struct ApiPaging(pub Paging);

impl<S: Send + Sync> FromRequestParts<S> for ApiPaging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(p) = Query::<PagingParams>::from_request_parts(parts, state).await?;
        Paging::parse(p.page.as_deref(), p.page_size.as_deref())
            .map(ApiPaging)
            .map_err(ApiError::BadRequest)
    }
}
