// The tablet page end to end in a real browser (Debian's chromium, driven by playwright-core)
// against the real siterelay binary: enrollment by code, the coordinator PIN, PHQ-9 filled and
// scored, the server stopped with two questionnaires queued on two tablets, restarted on the same
// port and data folder, a reload with a non-empty queue, a lost acknowledgement, and each
// questionnaire stored exactly once. One tablet loads the page as http://clinic-pc.test:PORT/
// (mapped to 127.0.0.1, not a secure context), the other from http://127.0.0.1:PORT/.
//
// Run by run_e2e.sh (CTest tst_tablet_browser). Environment: SITERELAY_BINARY, SITERELAY_NODE_MODULES;
// optional SITERELAY_SCREENSHOTS=DIR writes the documentation screenshots there.
'use strict';

const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require(path.join(process.env.SITERELAY_NODE_MODULES || '', 'playwright-core'));

const BINARY = process.env.SITERELAY_BINARY;
const PIN = '2468';
const STEP_TIMEOUT_MS = 20000;
const started = Date.now();

function log(message) {
    console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

function freePort() {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

function cli(dataDir, args) {
    const out = execFileSync(BINARY, [...args, '--data-dir', dataDir], {
        encoding: 'utf8',
        env: { ...process.env, QT_QPA_PLATFORM: 'offscreen' },
    });
    return out.trim().split('\n');
}

function sql(dataDir, statement) {
    return execFileSync('sqlite3', ['-readonly', path.join(dataDir, 'siterelay.sqlite'), statement], {
        encoding: 'utf8',
    }).trim();
}

class Server {
    constructor(dataDir, port) {
        this.dataDir = dataDir;
        this.port = port;
        this.process = null;
        this.output = '';
    }

    start() {
        return new Promise((resolve, reject) => {
            const child = spawn(BINARY, [
                '--headless', '--bind', '127.0.0.1', '--port', String(this.port), '--data-dir', this.dataDir,
                '--set', `tablet/coordinatorPin=${PIN}`,
                // Scoring runs; the report and the analysis call are not what this test is about.
                '--set', 'report/enabled=false', '--set', 'analysis/url=',
            ], { env: { ...process.env, QT_QPA_PLATFORM: 'offscreen' }, stdio: ['ignore', 'pipe', 'pipe'] });
            this.process = child;
            let current = '';
            const timer = setTimeout(() => reject(new Error(`server did not start:\n${this.output}`)), STEP_TIMEOUT_MS);
            const onData = (chunk) => {
                this.output += chunk.toString();
                current += chunk.toString();
                if (/listening on http:\/\/[^\s]+:\d+/.test(current)) {
                    clearTimeout(timer);
                    resolve();
                }
            };
            child.stdout.on('data', onData);
            child.stderr.on('data', onData);
            child.once('exit', (code) => {
                clearTimeout(timer);
                reject(new Error(`server exited with ${code}:\n${this.output}`));
            });
        });
    }

    stop() {
        return new Promise((resolve) => {
            const child = this.process;
            if (!child || child.exitCode !== null) {
                resolve();
                return;
            }
            child.removeAllListeners('exit');
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
        });
    }
}

async function api(port, method, urlPath, token) {
    const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
        method,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    return { status: response.status, body: await response.json().catch(() => null), headers: response.headers };
}

async function until(what, check, timeoutMs = STEP_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const result = await check();
        if (result)
            return result;
        if (Date.now() > deadline)
            throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

// A browser tablet: its own context (own localStorage and IndexedDB), watched for CSP violations
// and script errors, and for the submission ids it sends.
async function openTablet(browser, origin, name) {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const tablet = { name, origin, context, page, problems: [], submissionIds: [] };
    await page.addInitScript(() => {
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => {
            window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
        });
    });
    page.on('pageerror', (error) => tablet.problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
        const text = message.text();
        // Refused connections are expected while the server is down.
        if (message.type() === 'error' && !/net::ERR_|Failed to load resource/.test(text))
            tablet.problems.push(`console: ${text}`);
        if (/Content Security Policy/i.test(text))
            tablet.problems.push(`CSP: ${text}`);
    });
    page.on('request', (request) => {
        if (request.method() === 'POST' && request.url().endsWith('/api/v1/submissions')) {
            const id = JSON.parse(request.postData()).submissionId;
            if (!tablet.submissionIds.includes(id))
                tablet.submissionIds.push(id);
        }
        // No patient data in any URL: only the page, its files and fixed API paths are requested.
        assert.ok(!/P-00\d|TRIAL-/.test(request.url()), `patient data in a URL: ${request.url()}`);
    });
    return tablet;
}

async function screen(page, name) {
    await page.waitForSelector(`body[data-screen="${name}"]`);
}

async function checkClean(tablet) {
    const violations = await tablet.page.evaluate(() => window.__cspViolations);
    assert.deepEqual(violations, [], `${tablet.name}: CSP violations`);
    assert.deepEqual(tablet.problems, [], `${tablet.name}: problems`);
}

async function unlockCoordinator(page) {
    await page.click('#coordinator-button');
    await screen(page, 'pin');
    await page.fill('#pin-input', PIN);
    await page.click('#unlock-button');
    await screen(page, 'coordinator');
}

async function prepare(page, trialId, patientId, questionnaireId) {
    await unlockCoordinator(page);
    await page.fill('#trial-input', trialId);
    await page.fill('#patient-input', patientId);
    await page.selectOption('#questionnaire-select', questionnaireId);
    await page.click('#begin-button');
    await screen(page, 'start');
    await page.waitForSelector('#start-button', { state: 'visible' });
    // The patient's start screen does not show whom it is for.
    assert.ok(!(await page.textContent('body')).includes(patientId));
}

async function answer(page, values) {
    await page.click('#start-button');
    for (let i = 0; i < values.length; ++i) {
        await screen(page, 'question');
        assert.equal(await page.textContent('#question-progress-text'), `Question ${i + 1} of ${values.length}`);
        // A required question cannot be left out; the last of PHQ-9 and GAD-7 (how difficult
        // the problems made things) is optional: null leaves it out.
        const required = i < values.length - 1;
        assert.equal(await page.isDisabled('#next-button'), required);
        if (values[i] !== null)
            await page.click(`#question-options .option[data-value="${values[i]}"]`);
        await page.click('#next-button');
    }
    await screen(page, 'review');
    assert.equal(await page.locator('#review-list li').count(), values.length);
}

async function submitAndFinish(page) {
    await page.click('#submit-button');
    await screen(page, 'thanks');
}

async function queueLength(page) {
    return page.evaluate(() => new Promise((resolve, reject) => {
        const open = indexedDB.open('siterelay-tablet');
        open.onsuccess = () => {
            const request = open.result.transaction('outbox').objectStore('outbox').count();
            request.onsuccess = () => { open.result.close(); resolve(request.result); };
            request.onerror = () => reject(request.error);
        };
        open.onerror = () => reject(open.error);
    }));
}

async function main() {
    assert.ok(BINARY && fs.existsSync(BINARY), 'SITERELAY_BINARY must name the siterelay binary');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siterelay-tablet-e2e-'));
    const port = await freePort();
    const server = new Server(dataDir, port);
    let browser = null;
    try {
        await server.start();
        log(`server on port ${port}`);
        const coordinatorToken = cli(dataDir, ['device', 'add', 'coordinator', '--role', 'coordinator']).pop();
        const qrFile = path.join(dataDir, 'tablet-1.png');
        const enrollment = cli(dataDir, ['device', 'add', 'Tablet 1', '--qr', qrFile,
            '--set', `tablet/siteUrl=http://clinic-pc.test:${port}`]);
        const code1 = enrollment[enrollment.length - 1];
        const enrollUrl = enrollment.find((line) => line.includes('/tablet/?enroll=')).trim();
        assert.equal(enrollUrl, `http://clinic-pc.test:${port}/tablet/?enroll=${code1}`);
        assert.ok(fs.statSync(qrFile).size > 100, 'QR PNG written');
        const code2 = cli(dataDir, ['device', 'add', 'Tablet 2', '--qr', path.join(dataDir, 'tablet-2.png'),
            '--set', `tablet/siteUrl=http://127.0.0.1:${port}`]).pop();

        browser = await chromium.launch({
            executablePath: '/usr/bin/chromium',
            headless: true,
            args: ['--host-resolver-rules=MAP clinic-pc.test 127.0.0.1', '--no-sandbox', '--disable-gpu'],
        });

        // ---- Tablet 1: enrolled by opening the QR code's link, on a plain-HTTP LAN name.
        const t1 = await openTablet(browser, `http://clinic-pc.test:${port}`, 'tablet 1');
        const pageResponse = await t1.page.goto(enrollUrl);
        const csp = pageResponse.headers()['content-security-policy'];
        assert.ok(csp.includes("default-src 'self'") && !csp.includes('unsafe-inline'), csp);
        await screen(t1.page, 'start');
        assert.equal(await t1.page.evaluate(() => window.isSecureContext), false, 'clinic-pc.test is not secure');
        assert.equal(await t1.page.evaluate(() => window.location.search), '', 'enrollment code left the address bar');
        assert.equal(t1.page.url(), `http://clinic-pc.test:${port}/tablet/`);
        assert.ok((await t1.page.textContent('#message')).includes('Tablet 1'));
        assert.ok((await t1.page.evaluate(() => localStorage.getItem('siterelay.token'))).startsWith('srt_'));
        log('tablet 1 enrolled by link');

        // The code is single use: opening the link again does not enroll anything.
        const reuse = await api(port, 'GET', '/api/v1/health');
        assert.equal(reuse.status, 200);
        const reused = await fetch(`http://127.0.0.1:${port}/api/v1/enroll`, {
            method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: code1 }),
        });
        assert.equal(reused.status, 403);

        // A wrong PIN is refused by the server and shown.
        await t1.page.click('#coordinator-button');
        await screen(t1.page, 'pin');
        await t1.page.fill('#pin-input', '1111');
        await t1.page.click('#unlock-button');
        await t1.page.waitForSelector('#message:not([hidden])');
        assert.ok((await t1.page.textContent('#message')).includes('PIN'));
        await t1.page.click('#pin-cancel-button');
        await screen(t1.page, 'start');

        // ---- PHQ-9, submitted and scored.
        await prepare(t1.page, 'TRIAL-1', 'P-001', 'phq9');
        const phq9 = [1, 2, 0, 3, 1, 0, 2, 1, 0, null]; // total 10: moderate; item 10 left out
        await answer(t1.page, phq9);
        // Change one answer from the review screen and come back to it.
        await t1.page.click('#review-list li:nth-child(4) button');
        await screen(t1.page, 'question');
        await t1.page.click('#question-options .option[data-value="2"]');
        await t1.page.click('#next-button');
        await screen(t1.page, 'review');
        phq9[3] = 2; // total 9: mild
        await submitAndFinish(t1.page);
        await t1.page.waitForSelector('body[data-queue="0"]');
        assert.equal(await queueLength(t1.page), 0, 'acknowledged answers left the tablet');
        await t1.page.click('#done-button');
        await screen(t1.page, 'start');
        const neutral = await t1.page.textContent('body');
        assert.ok(!neutral.includes('P-001') && !neutral.includes('Little interest'), 'nothing of the last patient');
        assert.equal(await t1.page.locator('#start-button').isVisible(), false);
        assert.equal(t1.submissionIds.length, 1);
        const firstId = t1.submissionIds[0];
        const scored = await until('PHQ-9 processed', async () => {
            const status = await api(port, 'GET', `/api/v1/submissions/${firstId}`, coordinatorToken);
            return status.body && status.body.status === 'processed' ? status.body : null;
        });
        assert.equal(scored.questionnaireId, 'phq9');
        assert.equal(scored.score.total, 9);
        assert.equal(scored.score.band, 'mild');
        assert.equal(sql(dataDir, `SELECT patient_id || '|' || trial_id FROM submissions WHERE submission_id = '${firstId}'`),
            'P-001|TRIAL-1');
        const stored = JSON.parse(sql(dataDir, `SELECT answers FROM submissions WHERE submission_id = '${firstId}'`));
        assert.deepEqual(phq9.map((v, i) => stored[`phq9_q${i + 1}`] ?? null), phq9);
        log('PHQ-9 stored once and scored');

        // ---- Two tablets, each with a patient ready, then the server goes away.
        await prepare(t1.page, 'TRIAL-1', 'P-002', 'gad7');
        const t2 = await openTablet(browser, `http://127.0.0.1:${port}`, 'tablet 2');
        await t2.page.goto(`http://127.0.0.1:${port}/tablet/`);
        await screen(t2.page, 'enroll');
        await t2.page.fill('#enroll-code-input', code2.toLowerCase());
        await t2.page.click('#enroll-button');
        await screen(t2.page, 'start');
        await prepare(t2.page, 'TRIAL-1', 'P-003', 'phq9');
        log('tablet 2 enrolled by typed code; both tablets prepared');

        await server.stop();
        log('server stopped');
        await answer(t1.page, [1, 1, 1, 1, 1, 1, 1, 2]);
        await submitAndFinish(t1.page);
        await answer(t2.page, [3, 3, 3, 3, 3, 3, 3, 3, 1, 3]);
        await submitAndFinish(t2.page);
        for (const t of [t1, t2]) {
            await t.page.waitForSelector('body[data-delivery="retrying"]');
            assert.equal(await queueLength(t.page), 1);
        }
        log('both questionnaires queued, delivery retrying');

        // Tablet 1 stays cut off for a moment longer; tablet 2 loses the first acknowledgement:
        // the server commits, the answer never arrives, the tablet must resend (and get a 200).
        await t1.page.route('**/api/v1/submissions', (route) => route.abort('internetdisconnected'));
        let lostAcknowledgements = 0;
        await t2.page.route('**/api/v1/submissions', async (route) => {
            if (lostAcknowledgements === 0) {
                let response;
                try {
                    response = await route.fetch();
                } catch (e) {
                    await route.abort('connectionrefused'); // not restarted yet
                    return;
                }
                if (response.status() === 202) {
                    lostAcknowledgements += 1;
                    await route.abort('connectionreset');
                    return;
                }
                await route.fulfill({ response });
                return;
            }
            await route.continue();
        });

        await server.start();
        log('server restarted on the same port and data folder');

        // Reload tablet 1 with its queue not empty: the answers are still there and still go.
        await t1.page.reload();
        await screen(t1.page, 'start');
        await t1.page.waitForSelector('body[data-queue="1"]');
        assert.equal(await queueLength(t1.page), 1);
        await t1.page.unroute('**/api/v1/submissions');
        await t1.page.waitForSelector('body[data-queue="0"]');
        await t2.page.waitForSelector('body[data-queue="0"]');
        assert.equal(lostAcknowledgements, 1, 'an acknowledgement was lost on the way');
        assert.equal(await queueLength(t1.page), 0);
        assert.equal(await queueLength(t2.page), 0);
        log('both queues drained');

        assert.equal(t1.submissionIds.length, 2);
        assert.equal(t2.submissionIds.length, 1);
        const expected = { [t1.submissionIds[1]]: 'P-002|gad7', [t2.submissionIds[0]]: 'P-003|phq9' };
        for (const [id, what] of Object.entries(expected)) {
            assert.equal(sql(dataDir, `SELECT count(*) FROM submissions WHERE submission_id = '${id}'`), '1');
            assert.equal(sql(dataDir,
                `SELECT patient_id || '|' || questionnaire_id FROM submissions WHERE submission_id = '${id}'`), what);
            const status = await api(port, 'GET', `/api/v1/submissions/${id}`, coordinatorToken);
            assert.equal(status.status, 200);
        }
        assert.equal(sql(dataDir, 'SELECT count(*) FROM submissions'), '3', 'every questionnaire exactly once');
        assert.equal(sql(dataDir, "SELECT count(*) FROM submissions WHERE patient_id = 'P-003'"), '1');
        // No patient data in the server's output.
        assert.ok(!/P-00\d/.test(server.output), 'patient ids in the server log');

        // A refusal that resending cannot fix (any 4xx but 401, 408, 429) stops that entry and shows
        // the server's message to the coordinator, who may discard it. The real server refuses
        // nothing this page builds, so this answer is staged in the browser.
        await prepare(t1.page, 'TRIAL-1', 'P-004', 'gad7');
        const refusal = 'completedAt is more than a day in the future; check the tablet\'s clock';
        await t1.page.route('**/api/v1/submissions', (route) => route.fulfill({
            status: 400,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'invalid_field', message: refusal, field: 'completedAt' } }),
        }));
        await answer(t1.page, [0, 0, 0, 0, 0, 0, 0, null]);
        await submitAndFinish(t1.page);
        await t1.page.waitForSelector('body[data-delivery="stopped"]');
        await t1.page.click('#done-button');
        await unlockCoordinator(t1.page);
        assert.ok((await t1.page.textContent('#queue-stopped')).includes(refusal));
        assert.ok((await t1.page.textContent('#queue-error')).includes(refusal));
        await t1.page.click('#queue-stopped button');
        await t1.page.waitForSelector('body[data-queue="0"]');
        await t1.page.unroute('**/api/v1/submissions');
        await t1.page.click('#lock-button');
        log('a refused questionnaire stopped, was shown and discarded');

        // A revoked tablet is told to enroll again.
        const tablet2Id = sql(dataDir, "SELECT id FROM devices WHERE name = 'Tablet 2'");
        cli(dataDir, ['device', 'revoke', tablet2Id]);
        await t2.page.click('#coordinator-button');
        await t2.page.fill('#pin-input', PIN);
        await t2.page.click('#unlock-button');
        await screen(t2.page, 'enroll');
        assert.ok((await t2.page.textContent('#message')).includes('enroll'));
        assert.equal(await t2.page.evaluate(() => localStorage.getItem('siterelay.token')), null);
        log('revoked tablet asks to be enrolled again');

        assert.equal(sql(dataDir, 'SELECT count(*) FROM submissions'), '3');
        await checkClean(t1);
        await checkClean(t2);

        if (process.env.SITERELAY_SCREENSHOTS)
            await screenshots(browser, port, dataDir, process.env.SITERELAY_SCREENSHOTS);
        log('passed');
    } finally {
        if (browser)
            await browser.close();
        await server.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
    }
}

// The documentation's pictures (docs/images/tablet-*.png): the coordinator screen, a question and
// the review, at phone (390x844) and tablet (1024x768) sizes, with made-up ids.
async function screenshots(browser, port, dataDir, folder) {
    fs.mkdirSync(folder, { recursive: true });
    for (const [size, viewport] of [['phone', { width: 390, height: 844 }], ['tablet', { width: 1024, height: 768 }]]) {
        const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
        const page = await context.newPage();
        const code = cli(dataDir, ['device', 'add', `Ward ${size}`, '--qr', path.join(dataDir, `shot-${size}.png`),
            '--set', `tablet/siteUrl=http://127.0.0.1:${port}`]).pop();
        await page.goto(`http://127.0.0.1:${port}/tablet/?enroll=${code}`);
        await screen(page, 'start');
        await unlockCoordinator(page);
        await page.fill('#trial-input', 'TRIAL-DEMO');
        await page.fill('#patient-input', 'DEMO-01');
        await page.selectOption('#questionnaire-select', 'phq9');
        await page.screenshot({ path: path.join(folder, `tablet-coordinator-${size}.png`) });
        await page.click('#begin-button');
        await screen(page, 'start');
        await page.click('#start-button');
        await screen(page, 'question');
        await page.click('#question-options .option[data-value="1"]');
        await page.click('#next-button');
        await page.click('#question-options .option[data-value="2"]');
        await page.screenshot({ path: path.join(folder, `tablet-question-${size}.png`) });
        await page.click('#next-button');
        for (const value of [0, 1, 0, 0, 1, 0, 0]) {
            await page.click(`#question-options .option[data-value="${value}"]`);
            await page.click('#next-button');
        }
        await page.click('#next-button');
        await screen(page, 'review');
        await page.screenshot({ path: path.join(folder, `tablet-review-${size}.png`), fullPage: size === 'tablet' });
        await context.close();
    }
}

main().then(() => process.exit(0), (error) => {
    console.error(error && error.stack ? error.stack : error);
    process.exit(1);
});
