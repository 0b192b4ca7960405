//! Computed observatory views, kept while the data they were computed
//! from do not change.

use std::collections::HashMap;

use super::Observatory;

/// What an observatory view depends on besides the data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ObservatoryKey {
    pub(super) campus_id: i64,
    pub(super) what_if: Option<(i64, i64)>,
    pub(super) period: Option<String>,
    pub(super) manager: bool,
}

/// Computed observatory views, each with the data version it was computed
/// at; a view is reused while the version holds. Per server: another
/// server's writes change the version too, since it is read from the
/// database.
#[derive(Default)]
pub(crate) struct ObservatoryCache(std::sync::Mutex<HashMap<ObservatoryKey, CachedView>>);

/// A view and the data version it was computed at.
type CachedView = ((i64, i64), std::sync::Arc<Observatory>);

/// Views kept at most (what-ifs multiply them).
const CACHED_VIEWS: usize = 256;

impl ObservatoryCache {
    pub(super) fn get(
        &self,
        key: &ObservatoryKey,
        version: (i64, i64),
    ) -> Option<std::sync::Arc<Observatory>> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, o)| o.clone())
    }

    pub(super) fn put(
        &self,
        key: ObservatoryKey,
        version: (i64, i64),
        o: std::sync::Arc<Observatory>,
    ) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= CACHED_VIEWS {
            map.retain(|_, (v, _)| *v == version);
            if map.len() >= CACHED_VIEWS {
                map.clear();
            }
        }
        map.insert(key, (version, o));
    }
}
