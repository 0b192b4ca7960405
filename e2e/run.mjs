#!/usr/bin/env node
// Real-browser end-to-end and accessibility check of the public Passerelle pages.
//
// Usage: node e2e/run.mjs http://127.0.0.1:PORT
//
// The server must already serve the demo data set (`passerelle demo`). The script drives the system
// Chromium through playwright-core (it never downloads a browser), walks the main pages and user
// journeys, runs axe-core (WCAG 2.0/2.1 A and AA rules) on every page it visits, and exits non-zero
// when a journey breaks or axe reports a `serious` or `critical` violation.
//
// Environment: CHROMIUM (default /usr/bin/chromium) is the browser executable.

import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
// axe is evaluated through the DevTools protocol rather than added as a <script> tag: the pages send a
// strict Content-Security-Policy (no inline script), which the test keeps enforced instead of
// bypassing it, so that a CSP problem of the pages themselves would still show up.
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);
const IMPACTS = ['critical', 'serious', 'moderate', 'minor'];
const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 900 };

const base = (process.argv[2] || process.env.BASE_URL || '').replace(/\/+$/, '');
if (!/^https?:\/\//.test(base)) {
  console.error('usage: node run.mjs BASE_URL   (e.g. http://127.0.0.1:8080)');
  process.exit(2);
}
const origin = new URL(base).origin;

/** Every page audited: { url, viewport, violations: [{ id, impact, help, nodes }] }. */
const audited = [];
/** Human-readable failures; any entry makes the run fail. */
const failures = [];
/** Requests to other origins, blocked so that the test never leaves the machine. */
const blocked = new Set();
/** An error status the current step expects (a refused sign-in answers 422), or null. */
let expectedStatus = null;

function fail(message) {
  failures.push(message);
  console.log(`  ✗ ${message}`);
}

function ok(message) {
  console.log(`  ✓ ${message}`);
}

function expect(condition, message) {
  if (condition) ok(message);
  else fail(message);
  return condition;
}

/** Lower-cases and strips accents and typographic apostrophes so text checks ignore them. */
function fold(s) {
  return s.normalize('NFD').replace(/\p{Diacritic}/gu, '').replace(/[’‘]/g, "'").toLowerCase();
}

/** Structural and axe checks of the page currently displayed; called after every navigation. */
async function audit(page, label) {
  const url = page.url();
  const viewport = page.viewportSize();
  console.log(`\n• ${label} — ${url} (${viewport.width}×${viewport.height})`);

  const lang = await page.getAttribute('html', 'lang');
  expect(lang === 'fr', `<html lang="fr"> (found ${JSON.stringify(lang)})`);
  const mains = await page.locator('main').count();
  expect(mains === 1, `exactly one <main> (found ${mains})`);
  const h1s = await page.locator('h1').count();
  expect(h1s === 1, `exactly one <h1> (found ${h1s})`);
  const title = await page.title();
  expect(title.trim().length > 0, `non-empty <title> (${JSON.stringify(title)})`);

  if (viewport.width <= PHONE.width) {
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(
      scrollWidth <= viewport.width + 1,
      `no horizontal scroll on a phone (scrollWidth ${scrollWidth} ≤ ${viewport.width + 1})`,
    );
  }

  // Injected on each page because every navigation starts a fresh document.
  await page.evaluate(AXE_SOURCE);
  const axeResult = await page.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return {
      rules: result.passes.length + result.violations.length + result.incomplete.length,
      incomplete: result.incomplete.map((v) => v.id),
      violations: result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({ target: n.target.map(String), summary: n.failureSummary })),
      })),
    };
  }, AXE_TAGS);
  const { rules, incomplete, violations } = axeResult;
  audited.push({ url, label, viewport: `${viewport.width}×${viewport.height}`, violations });
  if (violations.length === 0) {
    ok(`axe: no WCAG 2.1 A/AA violation (${rules} applicable rules${incomplete.length ? `; to review by hand: ${incomplete.join(', ')}` : ''})`);
  }
  for (const v of violations) {
    const line = `axe ${v.impact}: ${v.id} — ${v.help} (${v.nodes.length} element(s)) on ${url}`;
    const details = v.nodes
      .slice(0, 10)
      .map((n) => `        ${n.target.join(' ')}${n.summary ? `\n          ${n.summary.replace(/\n/g, '\n          ')}` : ''}`)
      .join('\n');
    const more = v.nodes.length > 10 ? `\n        … and ${v.nodes.length - 10} more` : '';
    if (BLOCKING_IMPACTS.has(v.impact)) {
      fail(`${line}\n${details}${more}\n        ${v.helpUrl}`);
    } else {
      console.log(`  ! ${line} (not blocking)\n${details}${more}`);
    }
  }
}

/** Navigates to a path of the server, checks the HTTP status, and audits the page. */
async function visit(page, path, label) {
  const response = await page.goto(base + path, { waitUntil: 'load' });
  const status = response ? response.status() : 0;
  if (status !== 200) fail(`GET ${path} answered ${status}, expected 200`);
  await audit(page, label);
}

/** Clicks something that navigates, waits for the new page, and audits it. */
async function follow(page, locator, label) {
  await Promise.all([page.waitForEvent('load'), locator.click()]);
  await audit(page, label);
}

/** The total announced by the catalogue heading, e.g. « 60 formations » → 60. */
async function catalogueTotal(page) {
  const text = await page.locator('h2#resultats').innerText();
  const m = text.match(/(\d+)/);
  return m ? Number(m[1]) : NaN;
}

async function resultTitles(page) {
  return page.locator('main .results > li > a').allInnerTexts();
}

// ---------------------------------------------------------------------------------------------------

async function homeSearchJourney(page) {
  console.log('\n=== Journey: home → formation search (with a typo) → formation → métier');
  await visit(page, '/', 'Accueil');
  await page.getByLabel('Rechercher une formation').fill('auxilliaire');
  await follow(
    page,
    page.locator('form[action="/formations"]').getByRole('button', { name: 'Rechercher' }),
    'Recherche de formations « auxilliaire »',
  );
  const url = new URL(page.url());
  expect(url.pathname === '/formations' && url.searchParams.get('q') === 'auxilliaire', `search submitted to ${url.pathname}${url.search}`);
  const titles = await resultTitles(page);
  const wanted = 'auxiliaire de puériculture';
  const matching = titles.filter((t) => fold(t).includes(fold(wanted)));
  if (!expect(matching.length > 0, `results (${titles.length}) contain « ${wanted} »: ${JSON.stringify(titles.slice(0, 5))}`)) {
    return;
  }
  const first = page.locator('main .results > li > a').first();
  const firstTitle = (await first.innerText()).trim();
  expect(fold(firstTitle).includes(fold(wanted)), `first result is about « ${wanted} » (${JSON.stringify(firstTitle)})`);
  await follow(page, first, 'Fiche formation (premier résultat)');
  expect(/^\/formations\/\d+$/.test(new URL(page.url()).pathname), `formation page ${new URL(page.url()).pathname}`);
  const h1 = (await page.locator('h1').innerText()).trim();
  expect(h1 === firstTitle, `formation <h1> is the result title (${JSON.stringify(h1)})`);

  const metierLinks = page.locator('main a[href^="/metiers/"]');
  if (!expect((await metierLinks.count()) > 0, 'formation page links to at least one métier')) return;
  const metier = metierLinks.first();
  const metierLabel = (await metier.innerText()).trim();
  await follow(page, metier, `Fiche métier « ${metierLabel} »`);
  expect(/^\/metiers\/[A-Z]\d{4}$/.test(new URL(page.url()).pathname), `métier page ${new URL(page.url()).pathname}`);
  expect((await page.locator('h1').innerText()).trim() === metierLabel, `métier <h1> is the link text (${JSON.stringify(metierLabel)})`);
}

async function metierSearchJourney(page) {
  console.log('\n=== Journey: métier search « éducatrice »');
  await visit(page, '/metiers', 'Les métiers');
  await page.getByLabel('Rechercher un métier').fill('éducatrice');
  await follow(page, page.locator('main form').getByRole('button', { name: 'Rechercher' }), 'Recherche de métiers « éducatrice »');
  const titles = await resultTitles(page);
  const wanted = 'Educateur spécialisé / Educatrice spécialisée';
  expect(titles.some((t) => t.trim() === wanted), `results (${titles.length}) contain « ${wanted} »: ${JSON.stringify(titles.slice(0, 5))}`);
}

async function catalogueJourney(page) {
  console.log('\n=== Journey: catalogue, pagination and facets');
  await visit(page, '/formations', 'Catalogue des formations');
  const total = await catalogueTotal(page);
  expect(total > 0, `catalogue announces ${total} formations`);
  const page1 = await resultTitles(page);
  const current = (await page.locator('nav.pager [aria-current="page"]').innerText().catch(() => '')).trim();
  const pm = current.match(/Page (\d+) sur (\d+)/);
  const pages = pm ? Number(pm[2]) : 1;
  expect(pm && pm[1] === '1', `pager says ${JSON.stringify(current)}`);
  expect(pages === Math.ceil(total / page1.length), `${total} formations at ${page1.length} per page make ${pages} pages`);
  if (pages >= 2) {
    await follow(page, page.locator('nav.pager a[rel="next"]'), 'Catalogue, page 2');
    expect(new URL(page.url()).searchParams.get('page') === '2', `page 2 URL ${new URL(page.url()).search}`);
    const current2 = (await page.locator('nav.pager [aria-current="page"]').innerText()).trim();
    expect(current2 === `Page 2 sur ${pages}`, `pager says ${JSON.stringify(current2)}`);
    const page2 = await resultTitles(page);
    expect(page2.length > 0, `page 2 lists ${page2.length} formations`);
    expect(
      page2.length > 0 && page2.every((t, i) => t !== page1[i]),
      'page 2 shows other formations than page 1',
    );
    expect((await page.locator('nav.pager a[rel="prev"]').count()) === 1, 'page 2 links back to the previous page');
  } else {
    fail(`the catalogue should span several pages (found ${pages})`);
  }

  // Facet: voie = apprentissage.
  await visit(page, '/formations', 'Catalogue des formations (filtres)');
  const facet = page.locator('.facets label').filter({ hasText: /apprentissage/i }).first();
  if (!expect((await facet.count()) === 1, 'a facet checkbox « Apprentissage » exists')) return;
  const facetText = (await facet.innerText()).trim();
  const fm = facetText.match(/^(.*?)\s*\((\d+)\)\s*$/);
  const facetLabel = fm ? fm[1].trim() : facetText;
  const facetCount = fm ? Number(fm[2]) : NaN;
  const checkbox = facet.locator('input[type="checkbox"]');
  const param = await checkbox.getAttribute('name');
  await checkbox.check();
  await follow(page, page.getByRole('button', { name: 'Appliquer les filtres' }), `Catalogue filtré « ${facetLabel} »`);
  const filtered = await catalogueTotal(page);
  expect(new URL(page.url()).searchParams.getAll(param).length === 1, `filter in the URL (${new URL(page.url()).search})`);
  expect(filtered > 0 && filtered < total, `count changes from ${total} to ${filtered}`);
  expect(filtered === facetCount, `count equals the facet's announced count (${facetCount})`);
  expect(await page.locator('.facets input[type="checkbox"]:checked').count() === 1, 'the ticked box stays ticked');
  const items = page.locator('main .results > li');
  const n = await items.count();
  const tags = await items.evaluateAll((lis) => lis.map((li) => [...li.querySelectorAll('.tag')].map((t) => t.textContent.trim())));
  const wrong = tags.filter((t) => !t.some((x) => fold(x) === fold(facetLabel)));
  expect(n > 0 && wrong.length === 0, `every result on the page (${n}) shows the voie « ${facetLabel} »${wrong.length ? `; ${wrong.length} do not: ${JSON.stringify(wrong.slice(0, 3))}` : ''}`);
}

async function otherPages(page) {
  console.log('\n=== Other main pages');
  await visit(page, '/campus/demo', 'Campus de démonstration');
  await visit(page, '/campus/demo/membres', 'Membres du campus (liste et carte)');
  expect((await page.locator('main svg[role="img"]').count()) === 1, 'the member map is drawn');
  expect((await page.locator('main table tbody tr').count()) > 0, 'the member list has rows');
  await visit(page, '/membres', 'Annuaire des membres');
  const member = page.locator('main .results > li > a').first();
  if (expect((await member.count()) === 1, 'the directory lists members')) {
    await follow(page, member, 'Fiche membre');
    expect(/^\/membres\/\d+$/.test(new URL(page.url()).pathname), `member page ${new URL(page.url()).pathname}`);
  }
  await visit(page, '/metiers/K1207', 'Fiche métier K1207');
  await visit(page, '/certifications/111669', 'Fiche certification 111669');
  await visit(page, '/donnees', 'Les données');
}

/** Signs in with a demo account (E2E_EMAIL, E2E_PASSWORD), creates a token, signs out. */
async function accountJourney(page) {
  console.log('\n=== Sign in, account page, sign out');
  const email = process.env.E2E_EMAIL;
  const password = process.env.E2E_PASSWORD;
  if (!email || !password) {
    fail('E2E_EMAIL and E2E_PASSWORD are not set: the sign-in journey cannot run');
    return;
  }
  await visit(page, '/connexion', 'Connexion');
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill('pas le bon mot de passe');
  expectedStatus = 422;
  await follow(page, page.locator('main').getByRole('button', { name: 'Se connecter' }), 'Connexion refusée');
  expect((await page.getByRole('alert').count()) === 1, 'the refusal is announced');
  expect((await page.locator('#email[aria-invalid="true"]').count()) === 1, 'the field is marked invalid and described by the message');
  await page.getByLabel('Mot de passe').fill(password);
  await follow(page, page.locator('main').getByRole('button', { name: 'Se connecter' }), 'Mon compte');
  expect(new URL(page.url()).pathname === '/compte', `signed in, on ${new URL(page.url()).pathname}`);
  expect((await page.getByText(email).count()) > 0, 'the account page shows the address');
  const cookie = (await page.context().cookies()).find((c) => c.name === '__Host-passerelle');
  expect(!!cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === 'Lax' && cookie.path === '/',
    `session cookie ${cookie ? `HttpOnly=${cookie.httpOnly} Secure=${cookie.secure} SameSite=${cookie.sameSite}` : 'missing'}`);
  await page.getByLabel('Nom du nouveau jeton').fill('essai du navigateur');
  await follow(page, page.getByRole('button', { name: 'Créer le jeton' }), 'Jeton créé');
  expect((await page.locator('.secret').count()) === 1, 'the new token is shown once');
  await follow(page, page.getByRole('button', { name: 'Se déconnecter' }), 'Déconnecté');
  expect((await page.getByRole('link', { name: 'Se connecter' }).count()) === 1, 'signed out: the sign-in link is back');
  expectedStatus = null;
}

/** A member editor (E2E_EDITOR_EMAIL, E2E_EDITOR_PASSWORD) edits their organisation and one of its formations. */
async function editJourney(page) {
  console.log('\n=== A member editor edits their organisation and a formation');
  const email = process.env.E2E_EDITOR_EMAIL;
  const password = process.env.E2E_EDITOR_PASSWORD;
  if (!email || !password) {
    fail('E2E_EDITOR_EMAIL and E2E_EDITOR_PASSWORD are not set: the editing journey cannot run');
    return;
  }
  const save = () => page.locator('main form.form').getByRole('button', { name: 'Enregistrer' });
  await visit(page, '/connexion', 'Connexion (rédaction)');
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await follow(page, page.locator('main').getByRole('button', { name: 'Se connecter' }), 'Mon compte (rédaction)');
  await visit(page, '/membres?q=Bert%C3%A8ne%20Juminer', 'Annuaire : le lycée de la rédaction');
  await follow(page, page.locator('main .results > li > a').first(), 'Fiche du lycée');
  await follow(page, page.getByRole('link', { name: 'Modifier la fiche' }), 'Formulaire du membre');
  await page.getByLabel('SIRET').fill('12345678901234');
  expectedStatus = 422;
  await follow(page, save(), 'Formulaire refusé (SIRET erroné)');
  const error = page.locator('#erreur-siret');
  const message = (await error.count()) === 1 ? (await error.innerText()).trim() : '';
  expect(message.length > 0, `the SIRET error is shown next to the field: « ${message} »`);
  expect((await page.locator('#f-siret[aria-invalid="true"]').count()) === 1, 'the SIRET field is marked invalid and described by its error');
  await page.getByLabel('SIRET').fill('');
  await page.getByLabel('Description').fill('Fiche mise à jour dans le navigateur.');
  await follow(page, save(), 'Fiche enregistrée');
  expect(/^\/membres\/\d+$/.test(new URL(page.url()).pathname), `back on the member page (${new URL(page.url()).pathname})`);
  expect((await page.getByText('Fiche mise à jour dans le navigateur.').count()) > 0, 'the new description is shown');
  await follow(page, page.locator('main a[href^="/formations/"]').first(), 'Formation du lycée');
  await follow(page, page.getByRole('link', { name: 'Modifier la formation' }), 'Formulaire de la formation');
  await page.getByLabel('Capacité (places)').fill('28');
  await follow(page, save(), 'Formation enregistrée');
  expect(/^\/formations\/\d+$/.test(new URL(page.url()).pathname), `back on the formation page (${new URL(page.url()).pathname})`);
  expect((await page.locator('main').innerText()).includes('28'), 'the new capacity is shown');
  await follow(page, page.getByRole('button', { name: 'Se déconnecter' }), 'Déconnecté (rédaction)');
  expectedStatus = null;
}

/** The campus manager opens the observatory, reads its tables and chart, and runs a what-if. */
async function observatoryJourney(page) {
  console.log('\n=== The campus manager reads the observatory and simulates new places');
  const email = process.env.E2E_EMAIL;
  const password = process.env.E2E_PASSWORD;
  if (!email || !password) {
    fail('E2E_EMAIL and E2E_PASSWORD are not set: the observatory journey cannot run');
    return;
  }
  await visit(page, '/connexion', 'Connexion (équipe)');
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await follow(page, page.locator('main').getByRole('button', { name: 'Se connecter' }), 'Mon compte (équipe)');
  await visit(page, '/campus/demo', 'Campus de démonstration');
  await follow(page, page.getByRole('link', { name: 'Observatoire des métiers et des besoins' }), 'Observatoire');
  const ranked = page.locator('table.obs tbody tr');
  const rows = await ranked.count();
  expect(rows > 10, `the ranked table lists the sector's métiers (${rows} rows)`);
  const first = rows > 0 ? (await ranked.first().innerText()) : '';
  expect(/\d\/5/.test(first), `the first métier shows its tension level: « ${first.slice(0, 80)} »`);
  const charts = await page.locator('figure.chart svg[role="img"]').count();
  const titled = await page.locator('figure.chart svg[role="img"] > title').count();
  expect(charts >= 2 && titled === charts, `every chart (${charts}: needs and places, outcomes) has a text alternative`);
  expect(fold(await page.locator('main').innerText()).includes('synthetiques'), 'the synthetic postings are said to be synthetic');
  const areas = await page.locator('figure.tension-map svg path').count();
  const coloured = await page.locator('figure.tension-map svg path:not([fill="#e6e6e6"])').count();
  expect(areas > 10 && coloured > 0, `the tension map draws the communes (${areas}), ${coloured} with a published level`);
  const select = page.getByLabel('Certification', { exact: true });
  const options = await select.locator('option').count();
  expect(options > 1, `the what-if offers the campus' certifications (${options - 1})`);
  if (options > 1) {
    await select.selectOption({ index: 1 });
    await page.getByLabel('Places', { exact: true }).fill('15');
    await follow(page, page.getByRole('button', { name: 'Calculer le nouvel écart' }), 'Observatoire (simulation)');
    expect(fold(await page.locator('main').innerText()).includes('simulation : 15 places'), 'the simulation is announced');
    expect((await page.getByRole('columnheader', { name: 'Écart avant' }).count()) === 1, 'the gap before the simulation is shown beside the new one');
  }
  const csv = await page.request.get(`${base}/campus/demo/observatoire/tension.csv`);
  expect(csv.status() === 200 && (await csv.text()).includes('code_rome'), `the CSV export answers (${csv.status()})`);
  await follow(page, page.getByRole('button', { name: 'Se déconnecter' }), 'Déconnecté (équipe)');
}

/**
 * Guards against a silent axe: on a deliberately broken document it must report the violations
 * the test relies on, otherwise « no violation » on the real pages would mean nothing.
 */
async function axeSelfTest(page) {
  console.log('=== axe self-test on a deliberately inaccessible document');
  await page.setContent('<html><head><title>t</title></head><body><input type="text"><a href="#x"></a></body></html>');
  await page.evaluate(AXE_SOURCE);
  const ids = await page.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return result.violations.map((v) => `${v.id}:${v.impact}`);
  }, AXE_TAGS);
  const expected = ['html-has-lang:serious', 'label:critical', 'link-name:serious'];
  expect(expected.every((e) => ids.includes(e)), `axe ${await page.evaluate(() => axe.version)} reports ${ids.join(', ')}`);
}

async function phonePass(page) {
  console.log('\n=== Phone viewport (375×812)');
  await page.setViewportSize(PHONE);
  await visit(page, '/', 'Accueil (téléphone)');
  await visit(page, '/formations', 'Catalogue des formations (téléphone)');
  await page.setViewportSize(DESKTOP);
}

// ---------------------------------------------------------------------------------------------------

function summary() {
  const byImpact = Object.fromEntries(IMPACTS.map((i) => [i, 0]));
  console.log('\n=== Summary');
  console.log(`pages checked: ${audited.length}`);
  for (const a of audited) {
    const counts = IMPACTS.map((i) => [i, a.violations.filter((v) => v.impact === i).length]).filter(([, c]) => c > 0);
    for (const [i, c] of counts) byImpact[i] += c;
    const text = counts.length ? counts.map(([i, c]) => `${c} ${i}`).join(', ') : 'no violation';
    console.log(`  ${a.viewport.padEnd(9)} ${new URL(a.url).pathname}${new URL(a.url).search}  — ${text}`);
  }
  console.log(`axe violations (rules × pages) by impact: ${IMPACTS.map((i) => `${i} ${byImpact[i]}`).join(', ')}`);
  if (blocked.size) console.log(`blocked requests to other origins: ${[...blocked].join(', ')}`);
  if (failures.length) {
    console.log(`\nFAILED: ${failures.length} check(s) failed:`);
    for (const f of failures) console.log(`  - ${f.split('\n')[0]}`);
  } else {
    console.log('\nOK: all checks passed');
  }
}

async function main() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  const userDataDir = mkdtempSync(join(tmpdir(), 'passerelle-e2e-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
      viewport: DESKTOP,
      locale: 'fr-FR',
    });
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.setDefaultNavigationTimeout(60_000);
    // Keep the browser on the server under test: anything else is blocked and reported.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin + '/') || url === origin) return route.continue();
      if (url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      blocked.add(new URL(url).origin);
      return route.abort();
    });
    page.on('console', (msg) => {
      // Chromium logs the expected error status of a step (a refused sign-in) as a console error.
      const expected = expectedStatus && msg.text().includes(`status of ${expectedStatus}`);
      if (msg.type() === 'error' && !expected) fail(`console error on ${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => fail(`JavaScript error on ${page.url()}: ${err.message}`));
    page.on('response', (res) => {
      if (res.url().startsWith(origin) && res.status() >= 400 && res.status() !== expectedStatus) {
        fail(`HTTP ${res.status()} for ${res.url()}`);
      }
    });
    page.on('requestfailed', (req) => {
      if (req.url().startsWith(origin)) fail(`request failed: ${req.url()} (${req.failure()?.errorText})`);
    });

    await axeSelfTest(page);
    for (const step of [homeSearchJourney, metierSearchJourney, catalogueJourney, otherPages, accountJourney, editJourney, observatoryJourney, phonePass]) {
      try {
        await step(page);
      } catch (err) {
        fail(`${step.name} stopped: ${err.stack || err}`);
      }
    }
  } catch (err) {
    fail(`browser run stopped: ${err.stack || err}`);
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
  summary();
  process.exit(failures.length ? 1 : 0);
}

main();
