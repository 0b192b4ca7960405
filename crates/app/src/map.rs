//! Maps of a campus' territory drawn from the GeoJSON shipped in `data/geo`,
//! as SVG paths: they render with no internet access and no tiles. Overseas
//! départements are drawn with their communes; others with the outline of the
//! département.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use serde_json::Value;

use crate::AppError;

/// Width of the drawing in SVG units; the height follows the territory.
const WIDTH: f64 = 600.0;

/// A territory outline projected to SVG coordinates.
#[derive(Debug, Clone, Serialize)]
pub struct Shape {
    pub name: String,
    /// INSEE code of the commune or département drawn.
    pub code: String,
    /// SVG path data.
    pub d: String,
}

/// A place drawn on the map.
#[derive(Debug, Clone, Serialize)]
pub struct Marker {
    pub x: f64,
    pub y: f64,
    pub label: String,
    pub count: usize,
    pub radius: f64,
}

/// A map ready to draw.
#[derive(Debug, Clone, Serialize)]
pub struct MapView {
    pub width: f64,
    pub height: f64,
    pub shapes: Arc<Vec<Shape>>,
    pub markers: Vec<Marker>,
}

/// Longitude/latitude bounds and the projection into the SVG box.
#[derive(Debug, Clone, Copy)]
struct Frame {
    min_lon: f64,
    max_lat: f64,
    scale: f64,
    cos_lat: f64,
}

impl Frame {
    fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            (lon - self.min_lon) * self.cos_lat * self.scale,
            (self.max_lat - lat) * self.scale,
        )
    }
}

struct BaseMap {
    frame: Frame,
    height: f64,
    shapes: Arc<Vec<Shape>>,
}

fn cache() -> &'static Mutex<HashMap<String, Arc<BaseMap>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<BaseMap>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn read_geojson(path: &Path) -> Result<Value, AppError> {
    let file = std::fs::File::open(path)
        .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))
}

/// A closed line of (longitude, latitude) points.
type Ring = Vec<(f64, f64)>;

/// Polygons (rings of lon/lat) of a GeoJSON geometry.
fn rings(geometry: &Value) -> Vec<Ring> {
    let point = |p: &Value| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?));
    let ring = |r: &Value| -> Ring {
        r.as_array()
            .map(|a| a.iter().filter_map(point).collect())
            .unwrap_or_default()
    };
    let coords = &geometry["coordinates"];
    match geometry["type"].as_str() {
        Some("Polygon") => coords
            .as_array()
            .map(|a| a.iter().map(ring).collect())
            .unwrap_or_default(),
        Some("MultiPolygon") => coords
            .as_array()
            .map(|polys| {
                polys
                    .iter()
                    .filter_map(Value::as_array)
                    .flat_map(|p| p.iter().map(ring))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Files and feature filter that draw one département.
fn sources(geo_dir: &Path, departement: &str) -> Option<(PathBuf, Option<String>)> {
    if departement.starts_with("97") {
        let dir = geo_dir.join("outre-mer");
        let prefix = format!("communes-{departement}-");
        let entry = std::fs::read_dir(&dir)
            .ok()?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))?;
        Some((entry.path(), None))
    } else {
        Some((
            geo_dir.join("france-geojson_departements-version-simplifiee.geojson.gz"),
            Some(departement.to_owned()),
        ))
    }
}

fn build_base(geo_dir: &Path, departements: &[String]) -> Result<BaseMap, AppError> {
    let mut named_rings: Vec<(String, String, Vec<Ring>)> = Vec::new();
    for dep in departements {
        let Some((file, filter)) = sources(geo_dir, dep) else {
            continue;
        };
        let json = read_geojson(&file)?;
        for feature in json["features"].as_array().into_iter().flatten() {
            let props = &feature["properties"];
            if let Some(code) = &filter {
                if props["code"].as_str() != Some(code.as_str()) {
                    continue;
                }
            }
            let name = props["nom"].as_str().unwrap_or_default().to_owned();
            let code = props["code"].as_str().unwrap_or_default().to_owned();
            named_rings.push((name, code, rings(&feature["geometry"])));
        }
    }
    let all = named_rings.iter().flat_map(|(_, _, r)| r.iter().flatten());
    let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) =
        (180.0f64, -180.0f64, 90.0f64, -90.0f64);
    for &(lon, lat) in all {
        min_lon = min_lon.min(lon);
        max_lon = max_lon.max(lon);
        min_lat = min_lat.min(lat);
        max_lat = max_lat.max(lat);
    }
    if min_lon > max_lon {
        return Err(AppError::NotFound("carte du territoire".into()));
    }
    let cos_lat = ((min_lat + max_lat) / 2.0).to_radians().cos();
    let scale = WIDTH / ((max_lon - min_lon) * cos_lat).max(1e-9);
    let frame = Frame {
        min_lon,
        max_lat,
        scale,
        cos_lat,
    };
    let shapes = named_rings
        .into_iter()
        .map(|(name, code, rings)| {
            let mut d = String::new();
            for ring in rings {
                for (i, (lon, lat)) in ring.into_iter().enumerate() {
                    let (x, y) = frame.project(lon, lat);
                    d.push_str(&format!(
                        "{}{:.1},{:.1}",
                        if i == 0 { "M" } else { "L" },
                        x,
                        y
                    ));
                }
                d.push('Z');
            }
            Shape { name, code, d }
        })
        .collect();
    Ok(BaseMap {
        frame,
        height: (max_lat - min_lat) * scale,
        shapes: Arc::new(shapes),
    })
}

/// Draws the départements given with markers at the places given
/// (label, longitude, latitude); places in the same commune share a marker.
pub fn draw(
    geo_dir: &Path,
    departements: &[String],
    places: &[(String, f64, f64)],
) -> Result<MapView, AppError> {
    let key = format!("{}|{}", geo_dir.display(), departements.join(","));
    let cached = cache()
        .lock()
        .expect("map cache poisoned")
        .get(&key)
        .cloned();
    let base = match cached {
        Some(b) => b,
        None => {
            let b = Arc::new(build_base(geo_dir, departements)?);
            cache()
                .lock()
                .expect("map cache poisoned")
                .insert(key, b.clone());
            b
        }
    };
    let mut grouped: Vec<(String, f64, f64, usize)> = Vec::new();
    for (label, lon, lat) in places {
        match grouped
            .iter_mut()
            .find(|g| (g.1 - lon).abs() < 1e-6 && (g.2 - lat).abs() < 1e-6)
        {
            Some(g) => g.3 += 1,
            None => grouped.push((label.clone(), *lon, *lat, 1)),
        }
    }
    let markers = grouped
        .into_iter()
        .map(|(label, lon, lat, count)| {
            let (x, y) = base.frame.project(lon, lat);
            Marker {
                x,
                y,
                label,
                count,
                radius: 5.0 + 3.0 * (count as f64).sqrt(),
            }
        })
        .collect();
    Ok(MapView {
        width: WIDTH,
        height: base.height,
        shapes: base.shapes.clone(),
        markers,
    })
}

impl crate::App {
    /// The map of a campus' territory with its members.
    pub async fn campus_map(
        &self,
        campus: &store::CampusRow,
        members: &[store::MemberRow],
    ) -> Result<MapView, AppError> {
        let mut deps: Vec<String> = self
            .store
            .campus_territories(campus.id)
            .await?
            .into_iter()
            .filter(|(kind, _, _)| kind == "departement")
            .map(|(_, code, _)| code)
            .collect();
        if deps.is_empty() {
            deps = members
                .iter()
                .filter_map(|m| m.departement_code.clone())
                .collect();
            deps.sort();
            deps.dedup();
        }
        let places: Vec<(String, f64, f64)> = members
            .iter()
            .filter_map(|m| Some((m.commune_name.clone()?, m.longitude?, m.latitude?)))
            .collect();
        draw(&self.config.data_dir.join("geo"), &deps, &places)
    }
}
