#!/usr/bin/env python3
"""Generates a national-scale synthetic catalogue for the benchmarks.

Reads the real certification codes (table `certifications`) and the real
communes (table `communes`) from a Passerelle SQLite database in which
`passerelle import referentiels` has run, and writes, reproducibly (seeded):

- a members sheet: N providers (lycées, CFA, organismes de formation,
  universités) with valid generated SIRETs (Luhn key on the 14 digits AND on
  the 9-digit SIREN), placed in real communes, flagged `invente=oui` and
  described as synthetic;
- a formations sheet: M formations, each on a random real certification, in
  a real commune (mostly the provider's own), with a random voie and
  modalité, `statut=publie` and a unique `cle`;
- two lists of search URLs for the load tests: a "popular" mix of 25
  realistic queries (repeated requests, which the server's result cache
  answers after the first time) and a "long tail" of distinct queries built
  from the words of the certification labels (more than the cache holds).

Usage:
  gen_catalogue.py --db PATH --out DIR [--members 3000] [--formations 200000] [--seed 20240601]
"""

import argparse
import csv
import os
import random
import sqlite3
import re
import sys
import unicodedata
import urllib.parse

SYNTHETIC = ("Organisme synthétique généré par bench/gen_catalogue.py pour les mesures "
             "de performance : nom, SIRET et adresse inventés.")

# Kinds of provider members and their share.
KINDS = [("lycee", 0.40), ("cfa", 0.25), ("organisme-formation", 0.30), ("universite", 0.05)]
PREFIX = {
    "lycee": ["Lycée professionnel", "Lycée polyvalent", "Lycée des métiers", "Lycée agricole"],
    "cfa": ["CFA", "CFA interprofessionnel", "CFA de la chambre de métiers", "CFA du BTP"],
    "organisme-formation": ["Organisme de formation", "Institut de formation", "Centre de formation continue", "GRETA"],
    "universite": ["Université", "IUT", "École supérieure", "Institut universitaire"],
}
SURNAMES = ["Jean Moulin", "Victor Hugo", "Marie Curie", "Jules Ferry", "Louise Michel", "Jean Jaurès",
            "Simone Veil", "Pierre Mendès France", "Gustave Eiffel", "Olympe de Gouges", "Albert Camus",
            "George Sand", "Paul Langevin", "Camille Claudel", "Aimé Césaire", "Toussaint Louverture",
            "Lucie Aubrac", "Joséphine Baker", "Léonard de Vinci", "Hélène Boucher"]

VOIES = [("scolaire", 0.35), ("apprentissage", 0.35), ("continue", 0.25), ("vae", 0.05)]
MODALITES = [("presentiel", 0.75), ("hybride", 0.15), ("distanciel", 0.10)]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(prefix: str) -> str:
    """Appends the digit that makes `prefix + digit` pass Luhn."""
    for d in "0123456789":
        if luhn_ok(prefix + d):
            return prefix + d
    raise AssertionError("a Luhn digit always exists")


def gen_siret(rng: random.Random) -> str:
    """A SIRET whose SIREN (9 digits) and whole 14 digits both pass Luhn."""
    while True:
        siren = luhn_complete(str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(7)))
        if siren == "356000000":  # La Poste follows another rule
            continue
        siret = luhn_complete(siren + "".join(rng.choice("0123456789") for _ in range(4)))
        assert luhn_ok(siret) and luhn_ok(siret[:9]) and len(siret) == 14
        return siret


def pick(rng: random.Random, table):
    r = rng.random()
    acc = 0.0
    for value, share in table:
        acc += share
        if r < acc:
            return value
    return table[-1][0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="SQLite database with the reference data")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--members", type=int, default=3000)
    ap.add_argument("--formations", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--tail", type=int, default=5000, help="distinct queries of the long-tail mix")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)

    db = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True)
    # Real certifications, active ones only (ordered, so the draw is reproducible).
    certs = db.execute(
        "SELECT code, label FROM certifications WHERE active ORDER BY code").fetchall()
    if not certs:
        certs = db.execute("SELECT code, label FROM certifications ORDER BY code").fetchall()
    # Real communes, weighted by population (floor 200) so that big cities hold more offers.
    communes = db.execute(
        "SELECT code_insee, name, departement_code, postcodes, COALESCE(population, 0) "
        "FROM communes ORDER BY code_insee").fetchall()
    db.close()
    if not certs or not communes:
        print("gen_catalogue: no certifications or communes in the database; run "
              "`passerelle import referentiels` first", file=sys.stderr)
        return 1
    weights = [max(c[4], 200) for c in communes]

    # Members.
    sirets = set()
    members = []
    member_communes = rng.choices(communes, weights=weights, k=a.members)
    for i in range(a.members):
        kind = pick(rng, KINDS)
        siret = gen_siret(rng)
        while siret in sirets:
            siret = gen_siret(rng)
        sirets.add(siret)
        com = member_communes[i]
        name = f"{rng.choice(PREFIX[kind])} {rng.choice(SURNAMES)} de {com[1]} ({i + 1:04d})"
        postcode = (com[3] or "").split(",")[0].split(" ")[0].strip()
        members.append({
            "nom": name, "type": kind, "siret": siret, "uai": "", "code_insee": com[0],
            "adresse": f"{rng.randint(1, 120)} rue {rng.choice(SURNAMES)}", "code_postal": postcode,
            "site_web": "", "description": SYNTHETIC, "date_adhesion": "2024-09-01",
            "date_sortie": "", "statut": "publie", "invente": "oui",
            "_commune": com,
        })
    mpath = os.path.join(a.out, "membres.csv")
    mcols = ["nom", "type", "siret", "uai", "code_insee", "adresse", "code_postal", "site_web",
             "description", "date_adhesion", "date_sortie", "statut", "invente"]
    with open(mpath, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        w.writerow(mcols)
        for m in members:
            w.writerow([m[c] for c in mcols])

    # Formations.
    fpath = os.path.join(a.out, "formations.csv")
    fcols = ["cle", "intitule", "certifinfo", "niveau", "voie", "modalite", "fournisseur_siret",
             "code_insee_lieu", "capacite", "duree_heures", "description", "statut", "invente"]
    elsewhere = rng.choices(communes, weights=weights, k=a.formations)
    with open(fpath, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        w.writerow(fcols)
        for i in range(a.formations):
            code, label = rng.choice(certs)
            m = rng.choice(members)
            voie = pick(rng, VOIES)
            modalite = pick(rng, MODALITES)
            site = m["_commune"] if rng.random() < 0.8 else elsewhere[i]
            title = label.strip()
            if voie == "apprentissage":
                title += " en apprentissage"
            elif voie == "vae":
                title += " par la VAE"
            w.writerow([
                f"bench-{i + 1:06d}", title, code, "", voie, modalite, m["siret"], site[0],
                rng.randint(8, 36) if voie != "vae" else "",
                rng.choice([400, 600, 800, 1200, 1600]) if voie == "continue" else "",
                f"Formation synthétique préparant « {label.strip()} » à {site[1]}.",
                "publie", "oui",
            ])

    # Search URLs for the load tests: a mix of realistic queries.
    deps = sorted({m["_commune"][2] for m in members})
    big_dep = max(deps, key=lambda d: sum(1 for m in members if m["_commune"][2] == d))
    provider = members[0]["nom"]
    q = urllib.parse.quote
    base = "/api/v1/formations"
    urls = [
        f"{base}?q=cuisine",
        f"{base}?q=boulanger",
        f"{base}?q=logistique",
        f"{base}?q=comptabilite",
        f"{base}?q={q('électricité')}",
        f"{base}?q=electricite",
        f"{base}?q={q('mécanique automobile')}",
        f"{base}?q={q('maintenance industrielle')}",
        f"{base}?q={q('aide soignant')}",
        f"{base}?q={q('conduite engins')}",
        f"{base}?q=xylophoniste",        # no hit
        f"{base}?q=mecaniqe",            # typo
        f"{base}?q=informatiqe",         # typo
        f"{base}?q={q('Pâtisserie')}",   # accent and capital
        f"{base}?q=commerce&page=2",
        f"{base}?q=vente&page=3",
        f"{base}?voie=apprentissage&niveau=4",
        f"{base}?modalite=distanciel",
        f"{base}?departement={q(big_dep)}",
        f"{base}?q=soudage&departement={q(big_dep)}",
        f"{base}?q=cuisine&voie=apprentissage",
        f"{base}?organisme={q(provider)}",
        f"{base}",
        f"{base}?page=2",
        f"{base}?q={q('bac pro')}&niveau=4&voie=scolaire",
    ]
    with open(os.path.join(a.out, "search_urls.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(urls) + "\n")

    # A long tail of distinct queries (more than the server's result cache holds), built from
    # the words of the certification labels: one or two words, some with a typo or without
    # accents, some with facet filters or a later page.
    words = {}
    for _, label in certs:
        for wd in re.findall(r"[^\W\d_]{5,}", label.lower()):
            words[wd] = words.get(wd, 0) + 1
    vocab = sorted((wd for wd, n in words.items() if n >= 3))
    all_deps = sorted({c[2] for c in communes})
    tail = set()
    while len(tail) < a.tail:
        terms = [rng.choice(vocab) for _ in range(rng.choice([1, 1, 2]))]
        r = rng.random()
        if r < 0.15:  # a typo: one letter dropped
            t = terms[0]
            i = rng.randrange(1, len(t) - 1)
            terms[0] = t[:i] + t[i + 1:]
        elif r < 0.30:  # accents left out
            terms = [unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode() for t in terms]
        params = [("q", " ".join(terms))]
        r = rng.random()
        if r < 0.15:
            params.append(("voie", pick(rng, VOIES)))
        elif r < 0.25:
            params.append(("departement", rng.choice(all_deps)))
        elif r < 0.30:
            params.append(("niveau", str(rng.randint(3, 7))))
        if rng.random() < 0.15:
            params.append(("page", str(rng.randint(2, 4))))
        tail.add(f"{base}?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}")
    tail = sorted(tail)
    rng.shuffle(tail)
    with open(os.path.join(a.out, "search_urls_tail.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(tail) + "\n")

    print(f"gen_catalogue: {len(members)} members -> {mpath}; {a.formations} formations -> {fpath}; "
          f"{len(certs)} certifications, {len(communes)} communes, seed {a.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
