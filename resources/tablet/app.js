// SiteRelay tablet page: questionnaire screens, an offline outbox in IndexedDB, enrollment.
// Plain browser JavaScript, no build step, no framework. Served over plain HTTP on the clinic LAN,
// so it must not need a secure context: UUIDs come from crypto.getRandomValues (the browser's own
// UUID function exists only in secure contexts) and there is no service worker. No patient data ever goes into
// a URL, the console or localStorage; answers live in memory until submitted and then in
// IndexedDB only until the server has acknowledged them.
'use strict';

(function () {
    const TOKEN_KEY = 'siterelay.token';
    const DEVICE_KEY = 'siterelay.deviceName';
    const TRIAL_KEY = 'siterelay.trialId';
    const QUESTIONNAIRE_KEY = 'siterelay.questionnaireId';
    const DEFINITIONS_KEY = 'siterelay.questionnaires';
    const DB_NAME = 'siterelay-tablet';
    const OUTBOX = 'outbox';
    const RETRY_BASE_MS = 1000;
    const RETRY_CAP_MS = 8000;
    const THANKS_TIMEOUT_MS = 15000;
    const IDENTIFIER = /^[A-Za-z0-9._-]{1,64}$/;
    const REENROLL_MESSAGE = 'This tablet is no longer enrolled. Ask the study coordinator for a new enrollment ' +
        'code. Answers waiting on this tablet are kept and sent afterwards.';

    const $ = (id) => document.getElementById(id);

    // ---------------------------------------------------------------- helpers

    function uuidV4() {
        const bytes = new Uint8Array(16);
        crypto.getRandomValues(bytes);
        bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
        bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
        const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }

    // RFC 3339 with the tablet's own offset, e.g. 2026-11-26T09:30:00.123+01:00.
    function rfc3339(date) {
        const pad = (n, w = 2) => String(Math.abs(n)).padStart(w, '0');
        const offset = -date.getTimezoneOffset();
        const sign = offset >= 0 ? '+' : '-';
        return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
            `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
            `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
    }

    function el(tag, className, text) {
        const node = document.createElement(tag);
        if (className)
            node.className = className;
        if (text !== undefined)
            node.textContent = text;
        return node;
    }

    function clear(node) {
        while (node.firstChild)
            node.removeChild(node.firstChild);
    }

    function showMessage(text, kind) {
        const box = $('message');
        box.textContent = text || '';
        box.className = kind === 'info' ? 'message info' : 'message';
        box.hidden = !text;
    }

    const screens = ['loading', 'enroll', 'start', 'pin', 'coordinator', 'question', 'review', 'thanks'];
    let currentScreen = 'loading';
    function show(name) {
        for (const screen of screens)
            $(`${screen}-screen`).hidden = screen !== name;
        currentScreen = name;
        document.body.dataset.screen = name;
        // The coordinator link is hidden while a patient is answering, so it is not tapped by mistake.
        $('coordinator-button').hidden = ['question', 'review', 'enroll', 'pin', 'coordinator'].includes(name);
        window.scrollTo(0, 0);
    }

    function token() {
        return localStorage.getItem(TOKEN_KEY) || '';
    }

    async function readError(response) {
        try {
            const body = await response.json();
            if (body && body.error && body.error.message)
                return body.error.message;
        } catch (e) {
            // not JSON: fall through
        }
        return `The server answered ${response.status}.`;
    }

    // ---------------------------------------------------------------- outbox (IndexedDB)

    let dbPromise = null;
    function db() {
        if (!dbPromise) {
            dbPromise = new Promise((resolve, reject) => {
                const request = indexedDB.open(DB_NAME, 1);
                request.onupgradeneeded = () => {
                    request.result.createObjectStore(OUTBOX, { keyPath: 'submissionId' });
                };
                request.onsuccess = () => resolve(request.result);
                request.onerror = () => reject(request.error);
            });
        }
        return dbPromise;
    }

    async function outbox(mode, work) {
        const database = await db();
        return new Promise((resolve, reject) => {
            const transaction = database.transaction(OUTBOX, mode);
            const store = transaction.objectStore(OUTBOX);
            let result;
            Promise.resolve(work(store, (value) => { result = value; })).catch(reject);
            // Resolved only when the transaction is durable, so a queued item survives a reload.
            transaction.oncomplete = () => resolve(result);
            transaction.onerror = () => reject(transaction.error);
            transaction.onabort = () => reject(transaction.error);
        });
    }

    function allItems() {
        return outbox('readonly', (store, done) => {
            const request = store.getAll();
            request.onsuccess = () => done(request.result.sort((a, b) => a.queuedAt - b.queuedAt));
        });
    }

    function putItem(item) {
        return outbox('readwrite', (store) => { store.put(item); });
    }

    function deleteItem(submissionId) {
        return outbox('readwrite', (store) => { store.delete(submissionId); });
    }

    // ---------------------------------------------------------------- delivery

    let pumping = false;
    let pumpAgain = false;
    let retryTimer = null;
    let lastError = '';
    let needsEnrollment = false;

    function backoffMs(attempts, retryAfterSeconds) {
        const exponential = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * Math.pow(2, Math.max(0, attempts - 1)));
        const jittered = exponential * (0.75 + Math.random() * 0.5);
        const asked = retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : 0;
        return Math.max(jittered, Math.min(asked, 60000));
    }

    function scheduleRetry(items) {
        if (retryTimer !== null) {
            clearTimeout(retryTimer);
            retryTimer = null;
        }
        const due = items.filter((i) => i.state === 'pending').map((i) => i.nextAttemptAt);
        if (due.length === 0 || needsEnrollment)
            return;
        const wait = Math.max(0, Math.min(...due) - Date.now());
        retryTimer = setTimeout(() => { retryTimer = null; pump(); }, wait);
    }

    // Sends what is due, oldest first. One pump at a time; a call while one runs makes it go again.
    async function pump() {
        if (pumping) {
            pumpAgain = true;
            return;
        }
        pumping = true;
        try {
            do {
                pumpAgain = false;
                await pumpOnce();
            } while (pumpAgain);
        } catch (e) {
            lastError = `The tablet cannot use its storage: ${e && e.message ? e.message : e}`;
        } finally {
            pumping = false;
        }
        await refreshQueueView();
    }

    async function pumpOnce() {
        let items = await allItems();
        for (const item of items) {
            if (item.state !== 'pending' || item.nextAttemptAt > Date.now() || needsEnrollment || !token())
                continue;
            const outcome = await send(item);
            if (outcome === 'transient')
                break; // the server or the network is down: the others would fail the same way
        }
        items = await allItems();
        scheduleRetry(items);
    }

    async function send(item) {
        let response;
        try {
            response = await fetch('/api/v1/submissions', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json', 'Authorization': `Bearer ${token()}` },
                body: item.body,
                cache: 'no-store',
                credentials: 'omit',
                referrerPolicy: 'no-referrer',
            });
        } catch (e) {
            return retryLater(item, 'The server cannot be reached (network error).', 0);
        }
        if (response.status === 200 || response.status === 202) {
            // The receipt is in: the server has the answers committed. Only now do they leave the tablet.
            await deleteItem(item.submissionId);
            lastError = '';
            return 'sent';
        }
        const message = await readError(response);
        if (response.status === 408 || response.status === 429 || response.status >= 500) {
            const retryAfter = parseInt(response.headers.get('Retry-After') || '0', 10) || 0;
            return retryLater(item, `${response.status}: ${message}`, retryAfter);
        }
        if (response.status === 401) {
            // The answers stay queued; they are sent once the tablet is enrolled again.
            lastError = `401: ${message}`;
            needsEnrollment = true;
            localStorage.removeItem(TOKEN_KEY);
            // A patient in the middle of a questionnaire is not interrupted; finishThanks() comes back here.
            if (!['question', 'review', 'thanks'].includes(currentScreen))
                showEnrollment(REENROLL_MESSAGE);
            return 'transient';
        }
        // Any other 4xx: resending the same thing cannot succeed. Keep it for the coordinator to see.
        item.state = 'stopped';
        item.lastError = `${response.status}: ${message}`;
        lastError = item.lastError;
        await putItem(item);
        return 'stopped';
    }

    async function retryLater(item, message, retryAfterSeconds) {
        item.attempts += 1;
        item.lastError = message;
        item.nextAttemptAt = Date.now() + backoffMs(item.attempts, retryAfterSeconds);
        lastError = message;
        await putItem(item);
        return 'transient';
    }

    async function enqueue(submission) {
        const now = Date.now();
        await putItem({
            submissionId: submission.submissionId,
            // Kept byte for byte: a resend is the same request, which the server recognises (200).
            body: JSON.stringify(submission),
            questionnaireId: submission.questionnaireId,
            queuedAt: now,
            attempts: 0,
            nextAttemptAt: now,
            state: 'pending',
            lastError: '',
        });
    }

    async function refreshQueueView() {
        let items = [];
        try {
            items = await allItems();
        } catch (e) {
            return;
        }
        const waiting = items.filter((i) => i.state === 'pending');
        const stopped = items.filter((i) => i.state === 'stopped');
        $('queue-count').textContent = String(waiting.length);
        $('queue-oldest').textContent = items.length ? new Date(items[0].queuedAt).toLocaleString() : '–';
        $('queue-error').textContent = lastError || '–';
        const badge = $('queue-badge');
        badge.hidden = items.length === 0;
        badge.textContent = items.length ? `${items.length} waiting` : '';
        // For the coordinator's eye and kiosk diagnostics: how delivery stands, without any content.
        document.body.dataset.queue = String(items.length);
        document.body.dataset.delivery = needsEnrollment ? 'enroll' : stopped.length ? 'stopped'
            : waiting.some((i) => i.attempts > 0) ? 'retrying' : waiting.length ? 'sending' : 'idle';
        const list = $('queue-stopped');
        clear(list);
        for (const item of stopped) {
            const entry = el('li', null, `${item.questionnaireId} queued ${new Date(item.queuedAt).toLocaleString()}: ` +
                `not accepted by the server — ${item.lastError}`);
            const discard = el('button', 'secondary', 'Discard');
            discard.type = 'button';
            discard.addEventListener('click', async () => {
                await deleteItem(item.submissionId);
                await refreshQueueView();
            });
            entry.appendChild(discard);
            list.appendChild(entry);
        }
    }

    // ---------------------------------------------------------------- questionnaire definitions

    let definitions = [];

    function loadCachedDefinitions() {
        try {
            definitions = JSON.parse(localStorage.getItem(DEFINITIONS_KEY) || '[]');
        } catch (e) {
            definitions = [];
        }
    }

    async function fetchDefinitions() {
        try {
            const response = await fetch('/api/v1/questionnaires', {
                headers: { 'Authorization': `Bearer ${token()}` },
                cache: 'no-store',
                credentials: 'omit',
            });
            if (response.status === 401) {
                localStorage.removeItem(TOKEN_KEY);
                showEnrollment(REENROLL_MESSAGE);
                return false;
            }
            if (!response.ok)
                return false;
            const body = await response.json();
            definitions = body.questionnaires || [];
            // Definitions are not patient data; cached so that a questionnaire can be filled while offline.
            localStorage.setItem(DEFINITIONS_KEY, JSON.stringify(definitions));
            return true;
        } catch (e) {
            return false; // offline: the cached definitions will do
        }
    }

    function definition(id) {
        return definitions.find((q) => q.id === id) || null;
    }

    // ---------------------------------------------------------------- enrollment

    function showEnrollment(message) {
        showMessage(message);
        $('enroll-code-input').value = '';
        show('enroll');
    }

    async function enroll(code) {
        showMessage('');
        $('enroll-button').disabled = true;
        try {
            const response = await fetch('/api/v1/enroll', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ code }),
                cache: 'no-store',
                credentials: 'omit',
            });
            if (!response.ok) {
                showEnrollment(await readError(response));
                return;
            }
            const body = await response.json();
            localStorage.setItem(TOKEN_KEY, body.token);
            localStorage.setItem(DEVICE_KEY, body.deviceName || '');
            needsEnrollment = false;
            await fetchDefinitions();
            showMessage(`This tablet is enrolled as “${body.deviceName}”.`, 'info');
            showStart();
            pump();
        } catch (e) {
            showEnrollment('The server cannot be reached. Check the Wi-Fi and try again.');
        } finally {
            $('enroll-button').disabled = false;
        }
    }

    // ---------------------------------------------------------------- patient session

    // In memory only: who answers what, and the answers so far. Dropped after each questionnaire.
    let session = null;

    function showStart() {
        const ready = session !== null;
        $('start-idle').hidden = ready;
        $('start-ready').hidden = !ready;
        if (ready) {
            $('start-title').textContent = session.questionnaire.title;
            $('start-count').textContent = String(session.questionnaire.items.length);
        } else {
            $('start-title').textContent = '';
            $('start-count').textContent = '';
        }
        show('start');
    }

    function renderQuestion() {
        const q = session.questionnaire;
        const item = q.items[session.index];
        const total = q.items.length;
        $('question-progress-text').textContent = `Question ${session.index + 1} of ${total}`;
        $('question-progress').max = total;
        $('question-progress').value = session.index + 1;
        $('question-instructions').textContent = q.instructions || '';
        $('question-text').textContent = item.text;
        const options = $('question-options');
        clear(options);
        for (const option of item.options) {
            const button = el('button', 'option', option.label);
            button.type = 'button';
            button.setAttribute('role', 'radio');
            button.dataset.value = String(option.value);
            button.setAttribute('aria-checked', String(session.answers[item.id] === option.value));
            button.addEventListener('click', () => {
                session.answers[item.id] = option.value;
                for (const other of options.children)
                    other.setAttribute('aria-checked', String(other === button));
                $('next-button').disabled = false;
            });
            options.appendChild(button);
        }
        $('next-button').disabled = item.required !== false && session.answers[item.id] === undefined;
        $('next-button').textContent = session.index + 1 === total ? 'Review' : 'Next';
        show('question');
    }

    function renderReview() {
        const q = session.questionnaire;
        const list = $('review-list');
        clear(list);
        q.items.forEach((item, index) => {
            const chosen = item.options.find((o) => o.value === session.answers[item.id]);
            const entry = el('li');
            const button = el('button');
            button.type = 'button';
            button.appendChild(el('span', 'text', item.text));
            button.appendChild(el('span', 'answer', chosen ? chosen.label : 'Not answered'));
            button.addEventListener('click', () => {
                session.index = index;
                session.fromReview = true;
                renderQuestion();
            });
            entry.appendChild(button);
            list.appendChild(entry);
        });
        const complete = q.items.every((i) => i.required === false || session.answers[i.id] !== undefined);
        $('submit-button').disabled = !complete;
        show('review');
    }

    async function submit() {
        $('submit-button').disabled = true;
        const submission = {
            submissionId: uuidV4(),
            patientId: session.patientId,
            trialId: session.trialId,
            questionnaireId: session.questionnaire.id,
            completedAt: rfc3339(new Date()),
            answers: Object.assign({}, session.answers),
        };
        try {
            // Stored durably before anything is sent, so neither a dropped network nor a reload loses it.
            await enqueue(submission);
        } catch (e) {
            showMessage('The answers could not be saved on this tablet. Please call the study coordinator.');
            $('submit-button').disabled = false;
            return;
        }
        endSession();
        show('thanks');
        thanksTimer = setTimeout(finishThanks, THANKS_TIMEOUT_MS);
        pump();
    }

    let thanksTimer = null;
    function finishThanks() {
        if (thanksTimer !== null)
            clearTimeout(thanksTimer);
        thanksTimer = null;
        if (!token()) {
            showEnrollment(REENROLL_MESSAGE);
            return;
        }
        showMessage('');
        showStart();
    }

    // Forgets the patient and wipes every screen that showed something of them.
    function endSession() {
        session = null;
        for (const id of ['question-text', 'question-instructions', 'question-progress-text'])
            $(id).textContent = '';
        clear($('question-options'));
        clear($('review-list'));
        $('patient-input').value = '';
    }

    // ---------------------------------------------------------------- coordinator

    async function unlock(pin) {
        showMessage('');
        $('unlock-button').disabled = true;
        try {
            const response = await fetch('/api/v1/tablet/unlock', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json', 'Authorization': `Bearer ${token()}` },
                body: JSON.stringify({ pin }),
                cache: 'no-store',
                credentials: 'omit',
            });
            $('pin-input').value = '';
            if (response.status === 401) {
                localStorage.removeItem(TOKEN_KEY);
                showEnrollment(REENROLL_MESSAGE);
                return;
            }
            if (!response.ok) {
                showMessage(await readError(response));
                return;
            }
            await fetchDefinitions();
            showCoordinator();
        } catch (e) {
            showMessage('The server cannot be reached, so the PIN cannot be checked. Check the Wi-Fi.');
        } finally {
            $('unlock-button').disabled = false;
        }
    }

    function showCoordinator() {
        const select = $('questionnaire-select');
        clear(select);
        for (const q of definitions) {
            const option = el('option', null, q.title);
            option.value = q.id;
            select.appendChild(option);
        }
        const remembered = localStorage.getItem(QUESTIONNAIRE_KEY);
        if (remembered && definition(remembered))
            select.value = remembered;
        $('trial-input').value = localStorage.getItem(TRIAL_KEY) || '';
        $('patient-input').value = '';
        $('device-name').textContent = localStorage.getItem(DEVICE_KEY) || '–';
        show('coordinator');
        refreshQueueView();
    }

    function beginSession() {
        const trialId = $('trial-input').value.trim();
        const patientId = $('patient-input').value.trim();
        const questionnaire = definition($('questionnaire-select').value);
        if (!IDENTIFIER.test(trialId)) {
            showMessage('The trial ID must be 1 to 64 letters, digits, dots, dashes or underscores.');
            return;
        }
        if (!IDENTIFIER.test(patientId)) {
            showMessage('The patient ID must be 1 to 64 letters, digits, dots, dashes or underscores.');
            return;
        }
        if (!questionnaire) {
            showMessage('No questionnaire is available yet: the tablet has not reached the server since it was enrolled.');
            return;
        }
        localStorage.setItem(TRIAL_KEY, trialId);
        localStorage.setItem(QUESTIONNAIRE_KEY, questionnaire.id);
        session = { trialId, patientId, questionnaire, answers: {}, index: 0, fromReview: false };
        $('patient-input').value = '';
        showMessage('');
        showStart();
    }

    // ---------------------------------------------------------------- wiring

    function wire() {
        $('enroll-form').addEventListener('submit', (event) => {
            event.preventDefault();
            enroll($('enroll-code-input').value.trim());
        });
        $('coordinator-button').addEventListener('click', () => {
            if (!token()) {
                show('enroll');
                return;
            }
            showMessage('');
            $('pin-input').value = '';
            show('pin');
            $('pin-input').focus();
        });
        $('pin-form').addEventListener('submit', (event) => {
            event.preventDefault();
            unlock($('pin-input').value);
        });
        $('pin-cancel-button').addEventListener('click', () => { showMessage(''); showStart(); });
        $('session-form').addEventListener('submit', (event) => {
            event.preventDefault();
            beginSession();
        });
        $('send-now-button').addEventListener('click', async () => {
            const items = await allItems();
            for (const item of items) {
                if (item.state === 'pending' && item.nextAttemptAt > Date.now()) {
                    item.nextAttemptAt = Date.now();
                    await putItem(item);
                }
            }
            pump();
        });
        $('lock-button').addEventListener('click', () => { showMessage(''); showStart(); });
        $('reenroll-button').addEventListener('click', () => {
            localStorage.removeItem(TOKEN_KEY);
            session = null;
            showEnrollment('');
        });
        $('start-button').addEventListener('click', () => {
            showMessage('');
            session.index = 0;
            renderQuestion();
        });
        $('next-button').addEventListener('click', () => {
            if (session.fromReview || session.index + 1 >= session.questionnaire.items.length) {
                session.fromReview = false;
                renderReview();
                return;
            }
            session.index += 1;
            renderQuestion();
        });
        $('back-button').addEventListener('click', () => {
            session.fromReview = false;
            if (session.index === 0) {
                showStart();
                return;
            }
            session.index -= 1;
            renderQuestion();
        });
        $('review-back-button').addEventListener('click', () => {
            session.index = session.questionnaire.items.length - 1;
            renderQuestion();
        });
        $('submit-button').addEventListener('click', submit);
        $('done-button').addEventListener('click', finishThanks);
        window.addEventListener('online', pump);
        document.addEventListener('visibilitychange', () => {
            if (document.visibilityState === 'visible')
                pump();
        });
    }

    async function main() {
        wire();
        loadCachedDefinitions();
        // The enrollment code must not stay in the address bar or the history: remove it first.
        const params = new URLSearchParams(window.location.search);
        const code = params.get('enroll');
        if (window.location.search)
            history.replaceState(null, '', window.location.pathname);
        if (code) {
            show('loading');
            await enroll(code);
        } else if (!token()) {
            showEnrollment('');
        } else {
            await fetchDefinitions();
            if (currentScreen !== 'enroll')
                showStart();
        }
        await refreshQueueView();
        pump();
        document.body.dataset.ready = 'true';
    }

    main();
})();
