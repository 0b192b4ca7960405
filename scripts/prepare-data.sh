#!/usr/bin/env bash
# Regenerates data/ (the reference data shipped with Passerelle) from the
# collected sources in ../shared/data. Each file is copied unchanged and
# gzip-compressed; `gzip -n` leaves out the file name and time stamp so that
# the same input always gives the same bytes, hence the same checksum in
# `DatasetInfo`, and a re-import can tell that nothing changed.
#
# Usage: scripts/prepare-data.sh [SOURCE_DIR]   (default: ../shared/data)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
src="${1:-$root/../shared/data}"
out="$root/data"

if [ ! -d "$src" ]; then
    echo "source directory not found: $src" >&2
    exit 1
fi

# ship SRC_PATH DEST_PATH: compress one source file into data/.
ship() {
    local from="$src/$1" to="$out/$2.gz"
    if [ ! -f "$from" ]; then
        echo "missing source file: $from" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$to")"
    gzip -9 -n -c "$from" >"$to.tmp"
    mv "$to.tmp" "$to"
}

# Territories: INSEE COG (via @etalab/decoupage-administratif), académies,
# zones d'emploi 2020, La Poste postcodes with commune coordinates.
ship geo/decoupage-administratif/communes.json territoires/communes.json
ship geo/decoupage-administratif/departements.json territoires/departements.json
ship geo/decoupage-administratif/regions.json territoires/regions.json
cp "$src/geo/decoupage-administratif/LICENSE" "$out/territoires/LICENSE-decoupage-administratif"
ship geo/departements_academies_regions.csv territoires/departements_academies_regions.csv
ship geo/insee_ze2020_composition_communale_2022.csv territoires/insee_ze2020_composition_communale_2022.csv
ship geo/insee_ze2020_liste_2022.csv territoires/insee_ze2020_liste_2022.csv
ship geo/laposte_hexasmal_2019.csv territoires/laposte_hexasmal_2019.csv

# ROME 4.0, version v460: only the files the importer reads.
for f in referentiel_code_rome referentiel_appellation referentiel_competence \
    referentiel_savoir coherence_item rubrique_mobilite grand_domaine \
    domaine_professionnel centre_interet arborescence_centre_interet texte; do
    ship "rome4/unix_${f}_v460_utf8.csv" "rome4/unix_${f}_v460_utf8.csv"
done

# Certif Info (Réseau des Carif-Oref).
ship certifinfo/certif_info.csv certifinfo/certif_info.csv

# RNCP tables (France Compétences export, 2021, v1.4).
for f in info rome nsf blocs_competences certificateurs; do
    ship "rncp/rncp_${f}.v1.4.csv" "rncp/rncp_${f}.v1.4.csv"
done

# Map contours: metropolitan départements and régions, overseas départements
# and their communes.
ship geo/france-geojson_departements-version-simplifiee.geojson geo/france-geojson_departements-version-simplifiee.geojson
ship geo/france-geojson_regions-version-simplifiee.geojson geo/france-geojson_regions-version-simplifiee.geojson
for f in "$src"/geo/outre-mer/*.geojson; do
    name="$(basename "$f")"
    ship "geo/outre-mer/$name" "geo/outre-mer/$name"
done

du -sh "$out"

# Observatory: tension indicators per bassin d'emploi (France Travail, via
# Mobiville), commune → bassin, the DARES FAP → ROME table, BMO difficulty
# per FAP (editions 2019 and 2020, via La Bonne Boîte).
ship tension/mobiville_cities-tension-utf8.csv observatoire/mobiville_cities-tension-utf8.csv
ship tension/labonneboite_lbb-pse_bassin-emploi_code-insee.csv observatoire/labonneboite_lbb-pse_bassin-emploi_code-insee.csv
ship rome-crosswalks/dares_Rome-V3_vers_Fap-2009_Table.csv observatoire/dares_Rome-V3_vers_Fap-2009_Table.csv
ship tension/labonneboite_metiers_tension_2019.csv observatoire/labonneboite_metiers_tension_2019.csv
ship tension/labonneboite_metiers_tension.csv observatoire/labonneboite_metiers_tension.csv

# Graduate outcomes: InserJeunes per formation × région (via Orion) and per
# establishment (DEPP), and the BCN tables that name their codes.
for f in bcn_nNiveauFormationDiplome_.csv bcn_nFormationDiplome_.csv bcn_nMef.csv orion_ij_region_data.csv \
    depp-2022-etablissements-2022_2023-pro.csv depp-2022-etablissements-2022_2023-apprentissage.csv; do
    ship "inserjeunes/$f" "inserjeunes/$f"
done
