//! The one paging rule of every listing: `page` from 1 (to [`Paging::MAX_PAGE`]), `page_size` from 1 to
//! [`Paging::MAX_PAGE_SIZE`] (default [`Paging::DEFAULT_PAGE_SIZE`]). A value outside the bounds
//! is refused with a message naming them, never clamped: a client asking for 100,000,000 items
//! must learn that it gets 500, not find out by counting.

use serde::Deserialize;
use utoipa::IntoParams;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Page number, from 1.
    pub page: u32,
    /// Items per page.
    pub page_size: u32,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            page: 1,
            page_size: Self::DEFAULT_PAGE_SIZE,
        }
    }
}

/// The raw `page` / `page_size` query parameters, as the OpenAPI document shows them.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PagingParams {
    /// Page number, from 1 to 1,000,000. Default 1.
    #[param(minimum = 1, maximum = 1_000_000, value_type = Option<u32>, nullable = false)]
    pub page: Option<String>,
    /// Items per page, 1–500. Default 50.
    #[param(minimum = 1, maximum = 500, value_type = Option<u32>, nullable = false)]
    pub page_size: Option<String>,
}

impl Paging {
    /// Largest page size any listing serves.
    pub const MAX_PAGE_SIZE: u32 = 500;
    /// Largest page number: far beyond any listing, small enough for every client's integers.
    pub const MAX_PAGE: u32 = 1_000_000;
    /// Page size when none is asked for.
    pub const DEFAULT_PAGE_SIZE: u32 = 50;

    /// Validates raw parameter values; the error names the parameter and its bounds.
    pub fn parse(page: Option<&str>, page_size: Option<&str>) -> Result<Paging, String> {
        let page = match page {
            None => 1,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(n) if (1..=Self::MAX_PAGE).contains(&n) => n,
                _ => {
                    return Err(format!(
                        "page must be an integer from 1 to {}, got `{raw}`",
                        Self::MAX_PAGE
                    ));
                }
            },
        };
        let page_size = Self::size("page_size", page_size)?;
        Ok(Paging { page, page_size })
    }

    /// A count of items per answer named `name` (`page_size`, or `limit` where a listing has
    /// no pages): 1 to [`Self::MAX_PAGE_SIZE`], default [`Self::DEFAULT_PAGE_SIZE`].
    pub fn size(name: &str, raw: Option<&str>) -> Result<u32, String> {
        let Some(raw) = raw else {
            return Ok(Self::DEFAULT_PAGE_SIZE);
        };
        match raw.trim().parse::<u32>() {
            Ok(n) if (1..=Self::MAX_PAGE_SIZE).contains(&n) => Ok(n),
            _ => Err(format!(
                "{name} must be an integer from 1 to {}, got `{raw}`",
                Self::MAX_PAGE_SIZE
            )),
        }
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.page_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(Paging::parse(None, None), Ok(Paging::default()));
        assert_eq!(
            Paging::parse(Some("3"), Some("500")),
            Ok(Paging {
                page: 3,
                page_size: 500
            })
        );
        assert_eq!(Paging::parse(Some("3"), Some("20")).unwrap().offset(), 40);
        for (page, size) in [
            ("0", "1"),
            ("1000001", "1"),
            ("1", "0"),
            ("1", "501"),
            ("1", "100000000"),
            ("x", "1"),
            ("1", "-1"),
            ("1", "99999999999"),
        ] {
            let err = Paging::parse(Some(page), Some(size)).unwrap_err();
            assert!(
                err.contains("from 1 to 1000000") || err.contains("from 1 to 500"),
                "{page}/{size}: {err}"
            );
        }
    }
}
