// The dashboard under load: the real server (ServerHost: store, ingest, engine) and the real main
// window in one process, as `siterelay` runs them, while a client thread posts submissions over
// loopback HTTP at a fixed rate. Prints the GUI event loop's latency (how late a 5 ms timer fires)
// and the refresh lag (from a submission's 202, i.e. its commit, to its row in the task model).
//
//   siterelay_guibench [--rate N] [--seconds S] [--connections C] [--engine on|off]
//   siterelay_guibench --screenshot FILE   (fills realistic demo data and saves the window as PNG)
//
// QT_QPA_PLATFORM defaults to offscreen; run the screenshot under Xvfb (xvfb-run) for real fonts.

#include "dashboard.h"
#include "mainwindow.h"
#include "questionnairecatalog.h"
#include "serverhost.h"
#include "settings.h"
#include "submissionstore.h"
#include "taskengine.h"
#include "tasktablemodel.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QPixmap>
#include <QRandomGenerator>
#include <QTableView>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTextStream>
#include <QThread>
#include <QTimer>
#include <QUuid>

#include <algorithm>
#include <cstdio>
#include <memory>

using namespace Qt::Literals::StringLiterals;
using namespace SiteRelay;

namespace {

/// One steady clock for both threads.
qint64 nowNs()
{
    static QElapsedTimer clock = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return clock.nsecsElapsed();
}

/// Submission id → when its 202 arrived; written by the client thread, read by the GUI thread.
struct CommitLog
{
    QMutex mutex;
    QHash<QString, qint64> committedNs;
};

QByteArray phq9Body(const QString &id, const QString &patient, const QDateTime &completed, int level, int item9)
{
    QJsonObject answers;
    auto *random = QRandomGenerator::global();
    for (int i = 1; i <= 8; ++i)
        answers.insert(u"phq9_q%1"_s.arg(i), qBound(0, level + int(random->bounded(3)) - 1, 3));
    answers.insert(u"phq9_q9"_s, item9);
    answers.insert(u"phq9_q10"_s, qBound(0, level, 3));
    const QJsonObject body{
        {u"submissionId"_s, id},
        {u"patientId"_s, patient},
        {u"trialId"_s, u"TRIAL-7"_s},
        {u"questionnaireId"_s, u"phq9"_s},
        {u"completedAt"_s, completed.toUTC().toString(Qt::ISODateWithMs)},
        {u"answers"_s, answers},
    };
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QByteArray request(const QByteArray &token, const QByteArray &body)
{
    return "POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           "Authorization: Bearer " +
           token + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

/**
 * The tablets: keep-alive connections on the client thread, one request in flight per connection,
 * paced to a total rate. Records each 202's arrival time in the CommitLog.
 */
class LoadDriver final : public QObject
{
public:
    LoadDriver(quint16 port, QByteArray token, int rate, int seconds, int connections, CommitLog &log)
        : m_port(port)
        , m_token(std::move(token))
        , m_rate(rate)
        , m_seconds(seconds)
        , m_connectionCount(connections)
        , m_log(log)
    {}

    void start()
    {
        for (int i = 0; i < m_connectionCount; ++i) {
            auto *socket = new QTcpSocket(this);
            socket->connectToHost(u"127.0.0.1"_s, m_port);
            connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
            // A connection the server closes loses its request in flight: counted, not retried.
            connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
                if (m_inFlight.remove(socket) > 0)
                    ++m_dropped;
                m_idle.removeAll(socket);
                checkDone();
            });
            m_idle.append(socket);
        }
        m_tick = new QTimer(this);
        m_tick->setTimerType(Qt::PreciseTimer);
        m_tick->setInterval(2);
        connect(m_tick, &QTimer::timeout, this, &LoadDriver::pump);
        m_startNs = nowNs();
        m_tick->start();
    }

    int sent() const { return m_sent; }
    int accepted() const { return m_accepted; }
    int errors() const { return m_errors; }
    int dropped() const { return m_dropped; }
    bool finished() const { return m_done; }

private:
    void pump()
    {
        const qint64 elapsedNs = nowNs() - m_startNs;
        if (elapsedNs >= qint64(m_seconds) * 1000000000LL) {
            m_tick->stop();
            m_stopSending = true;
            checkDone();
            return;
        }
        const qint64 due = elapsedNs * m_rate / 1000000000LL;
        while (m_sent < due && !m_idle.isEmpty()) {
            QTcpSocket *socket = m_idle.takeLast();
            const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
            const QString patient = u"P-%1"_s.arg(m_sent % 500, 4, 10, QChar(u'0'));
            m_inFlight.insert(socket, id);
            socket->write(request(m_token, phq9Body(id, patient, QDateTime::currentDateTimeUtc(), m_sent % 4, 0)));
            ++m_sent;
        }
    }

    void onReadyRead(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        for (;;) {
            const qsizetype headerEnd = buffer.indexOf("\r\n\r\n");
            if (headerEnd < 0)
                return;
            const QByteArray head = buffer.left(headerEnd);
            qsizetype length = 0;
            for (const QByteArray &line : head.split('\n')) {
                if (line.toLower().startsWith("content-length:"))
                    length = line.mid(15).trimmed().toLongLong();
            }
            if (buffer.size() < headerEnd + 4 + length)
                return;
            const int status = head.mid(9, 3).toInt();
            buffer.remove(0, headerEnd + 4 + length);
            const QString id = m_inFlight.take(socket);
            if (status == 202) {
                ++m_accepted;
                QMutexLocker lock(&m_log.mutex);
                m_log.committedNs.insert(id, nowNs());
            } else {
                ++m_errors;
            }
            m_idle.append(socket);
            checkDone();
        }
    }

    void checkDone()
    {
        if (m_stopSending && m_inFlight.isEmpty())
            m_done = true;
    }

    quint16 m_port;
    QByteArray m_token;
    int m_rate;
    int m_seconds;
    int m_connectionCount;
    CommitLog &m_log;
    QTimer *m_tick = nullptr;
    qint64 m_startNs = 0;
    QList<QTcpSocket *> m_idle;
    QHash<QTcpSocket *, QString> m_inFlight;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    std::atomic<int> m_sent{0};
    std::atomic<int> m_accepted{0};
    std::atomic<int> m_errors{0};
    std::atomic<int> m_dropped{0};
    std::atomic<bool> m_done{false};
    bool m_stopSending = false;
};

double percentile(QList<double> values, double p)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    const qsizetype index = qBound<qsizetype>(0, qsizetype(p * double(values.size() - 1) + 0.5), values.size() - 1);
    return values.at(index);
}

/// The dashboard as the application assembles it (window, alert banner, task actions), wired the same way.
std::unique_ptr<Dashboard> makeDashboard(ServerHost &host, const QString &settingsFile)
{
    Dashboard::Context context;
    context.store = &host.store();
    context.engine = host.engine();
    context.catalog = &host.catalog();
    context.listenUrls = {host.url()};
    context.workerLoad = [&host] {
        WorkerLoad load;
        if (TaskEngine *engine = host.engine()) {
            const EngineSnapshot snapshot = engine->snapshot();
            load = WorkerLoad{true, snapshot.workersActive, snapshot.workersMax};
        }
        return load;
    };
    context.windowSettingsFile = settingsFile;
    auto dashboard = std::make_unique<Dashboard>(std::move(context));
    QObject::connect(&host.store(), &SubmissionStore::committed, dashboard.get(), &Dashboard::storeChanged,
                     Qt::QueuedConnection);
    if (TaskEngine *engine = host.engine())
        QObject::connect(engine, &TaskEngine::taskChanged, dashboard.get(), &Dashboard::storeChanged,
                         Qt::QueuedConnection);
    return dashboard;
}

/// Runs the event loop until @p done or @p timeoutMs; false on timeout.
/// The check is a 20 ms timer in a plain event loop, so waiting adds no load to the measured GUI thread.
template <typename Predicate>
bool runUntil(Predicate done, int timeoutMs)
{
    if (done())
        return true;
    QEventLoop loop;
    QTimer poll;
    QElapsedTimer timer;
    timer.start();
    bool met = false;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        met = done();
        if (met || timer.elapsed() > timeoutMs)
            loop.quit();
    });
    poll.start(20);
    loop.exec();
    return met;
}

int runLoad(ServerHost &host, const QByteArray &token, int rate, int seconds, int connections,
            const QString &settingsFile)
{
    QTextStream out(stdout);
    auto dashboard = makeDashboard(host, settingsFile);
    MainWindow *window = dashboard->window();
    window->resize(1400, 860);
    window->show();

    // GUI latency: how late a 5 ms timer fires on the GUI thread.
    QList<double> latenessMs;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(5);
    qint64 lastNs = 0;
    bool measuring = false;
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = nowNs();
        if (measuring && lastNs > 0)
            latenessMs.append(qMax(0.0, double(now - lastNs) / 1e6 - 5.0));
        lastNs = now;
    });
    probe.start();

    // Refresh lag: 202 (commit) → the row is in the task model. A row can even show before the
    // client has read its 202 (the commit signal races the answer): that counts as no lag.
    CommitLog log;
    QHash<QString, qint64> seenNs; // GUI thread only
    TaskTableModel *model = window->taskModel();
    QObject::connect(model, &QAbstractItemModel::rowsInserted, [&](const QModelIndex &, int first, int last) {
        const qint64 now = nowNs();
        for (int row = first; row <= last; ++row)
            seenNs.insert(model->rowAt(row).submissionId, now);
    });
    const auto lags = [&] {
        QList<double> result;
        QMutexLocker lock(&log.mutex);
        for (auto it = log.committedNs.cbegin(); it != log.committedNs.cend(); ++it) {
            const auto seen = seenNs.constFind(it.key());
            if (seen != seenNs.cend())
                result.append(qMax(0.0, double(*seen - *it) / 1e6));
        }
        return result;
    };

    QThread clientThread;
    clientThread.setObjectName(u"load-client"_s);
    auto *driver = new LoadDriver(host.port(), token, rate, seconds, connections, log);
    driver->moveToThread(&clientThread);
    QObject::connect(&clientThread, &QThread::finished, driver, &QObject::deleteLater);
    clientThread.start();
    // Let the window settle before measuring.
    runUntil([] { return false; }, 1000);
    measuring = true;
    const qint64 refreshesBefore = window->refreshCount();
    QElapsedTimer wall;
    wall.start();
    QMetaObject::invokeMethod(driver, [driver] { driver->start(); });
    const bool finished = runUntil([driver] { return driver->finished(); }, (seconds + 30) * 1000);
    // The last rows: wait until every accepted submission was seen (or 5 s).
    runUntil([&] { return lags().size() >= driver->accepted(); }, 5000);
    const QList<double> lagMs = lags();
    const int seenRows = int(lagMs.size());
    measuring = false;
    const double elapsedS = double(wall.elapsed()) / 1000.0;
    const qint64 refreshes = window->refreshCount() - refreshesBefore;
    const int sent = driver->sent();
    const int accepted = driver->accepted();
    const int errors = driver->errors();
    const int dropped = driver->dropped();
    const int unanswered = sent - accepted - errors - dropped;
    clientThread.quit();
    clientThread.wait();

    out << "gui bench: " << sent << " sent, " << accepted << " accepted (202), " << errors << " other answers, "
        << dropped << " dropped connections, " << unanswered << " unanswered, in " << QString::number(elapsedS, 'f', 1)
        << " s (target " << rate << "/s for " << seconds << " s)" << (finished ? "" : " [client did not finish]")
        << Qt::endl;
    out << "event loop lateness (5 ms timer), ms: p50 " << QString::number(percentile(latenessMs, 0.5), 'f', 1)
        << "  p99 " << QString::number(percentile(latenessMs, 0.99), 'f', 1) << "  max "
        << QString::number(percentile(latenessMs, 1.0), 'f', 1) << "  (" << latenessMs.size() << " ticks)" << Qt::endl;
    out << "refresh lag (202 -> row in model), ms: p50 " << QString::number(percentile(lagMs, 0.5), 'f', 0) << "  p99 "
        << QString::number(percentile(lagMs, 0.99), 'f', 0) << "  max "
        << QString::number(percentile(lagMs, 1.0), 'f', 0) << "  (" << seenRows << " of " << accepted << " rows seen)"
        << Qt::endl;
    out << "refresh cycles: " << refreshes << " (" << QString::number(double(refreshes) / elapsedS, 'f', 1) << "/s)"
        << Qt::endl;
    dashboard.reset();
    return finished && seenRows >= accepted ? 0 : 1;
}

/// How long the window takes from construction to its first page of rows and its counts.
int runOpen(ServerHost &host, const QString &settingsFile)
{
    QElapsedTimer clock;
    clock.start();
    auto dashboard = makeDashboard(host, settingsFile);
    MainWindow *window = dashboard->window();
    window->resize(1400, 860);
    window->show();
    const qint64 constructedMs = clock.elapsed();
    const bool rows = runUntil([&] { return window->taskModel()->rowCount() > 0; }, 60000);
    const qint64 rowsMs = clock.elapsed();
    const bool counted = runUntil([&] { return window->refreshCount() > 0; }, 60000);
    const qint64 countedMs = clock.elapsed();
    QTextStream(stdout) << "open: window constructed in " << constructedMs << " ms, first "
                        << window->taskModel()->rowCount() << " rows after " << rowsMs
                        << " ms, counts and figures after " << countedMs << " ms" << Qt::endl;
    dashboard.reset();
    return rows && counted ? 0 : 1;
}

/// Posts one request and waits for its answer (demo data only; runs the event loop while waiting).
int postBlocking(quint16 port, const QByteArray &token, const QByteArray &body)
{
    QTcpSocket socket;
    socket.connectToHost(u"127.0.0.1"_s, port);
    if (!socket.waitForConnected(5000))
        return 0;
    socket.write(request(token, body));
    QByteArray answer;
    while (!answer.contains("\r\n\r\n") && socket.waitForReadyRead(5000))
        answer += socket.readAll();
    return answer.mid(9, 3).toInt();
}

int runScreenshot(ServerHost &host, const QByteArray &token, const QString &file, const QString &settingsFile)
{
    // A realistic morning: 14 patients with weekly PHQ-9s over two months, two answering item 9,
    // two incomplete questionnaires from a tablet with an old app, a few arriving just now.
    auto *random = QRandomGenerator::global();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QStringList patients = {u"P-1017"_s, u"P-1022"_s, u"P-1031"_s, u"P-1046"_s, u"P-1058"_s,
                                  u"P-1063"_s, u"P-1079"_s, u"P-1084"_s, u"P-1095"_s, u"P-1102"_s,
                                  u"P-1113"_s, u"P-1127"_s, u"P-1136"_s, u"P-1148"_s};
    for (int week = 8; week >= 0; --week) {
        for (int p = 0; p < patients.size(); ++p) {
            if (random->bounded(4) == 0 && week > 0)
                continue;
            // P-1031 gets worse over the weeks; others wander around their own level.
            const int level = p == 2 ? qBound(0, (8 - week) / 2, 3) : (p % 3) + int(random->bounded(2)) - (week % 2);
            const int item9 = (p == 2 && week == 0) || (p == 7 && week == 0) ? 2 : 0;
            const QDateTime completed = now.addDays(-7 * week).addSecs(-3600 * (p % 6) - 120);
            postBlocking(host.port(), token,
                         phq9Body(QUuid::createUuid().toString(QUuid::WithoutBraces), patients.at(p), completed,
                                  qBound(0, level, 3), item9));
        }
    }
    for (const QString &patient : {u"P-1063"_s, u"P-1084"_s}) {
        const QJsonObject body{{u"submissionId"_s, QUuid::createUuid().toString(QUuid::WithoutBraces)},
                               {u"patientId"_s, patient},
                               {u"trialId"_s, u"TRIAL-7"_s},
                               {u"questionnaireId"_s, u"phq9"_s},
                               {u"completedAt"_s, now.addSecs(-900).toString(Qt::ISODateWithMs)},
                               {u"answers"_s, QJsonObject{{u"phq9_q1"_s, 1}, {u"phq9_q2"_s, 2}}}};
        postBlocking(host.port(), token, QJsonDocument(body).toJson(QJsonDocument::Compact));
    }

    auto dashboard = makeDashboard(host, settingsFile);
    MainWindow *window = dashboard->window();
    window->resize(1600, 940);
    window->show();
    TaskTableModel *model = window->taskModel();
    runUntil(
        [&] {
            if (model->rowCount() == 0)
                return false;
            for (int row = 0; row < model->rowCount(); ++row) {
                const QString state = model->rowAt(row).state;
                if (state == "pending"_L1 || state == "processing"_L1)
                    return false;
            }
            return true;
        },
        60000);
    // A few just arriving, so the list shows work in progress too.
    for (int i = 0; i < 3; ++i)
        postBlocking(host.port(), token,
                     phq9Body(QUuid::createUuid().toString(QUuid::WithoutBraces), patients.at(10 + i), now, 1, 0));
    window->refreshNow();
    runUntil([] { return false; }, 1500);
    for (int row = 0; row < model->rowCount(); ++row) {
        if (model->rowAt(row).patientId == "P-1031"_L1 && model->rowAt(row).alerts > 0) {
            window->taskView()->selectRow(row);
            break;
        }
    }
    runUntil([] { return false; }, 2500);
    const bool saved = window->grab().save(file, "PNG");
    QTextStream(stdout) << (saved ? "saved " : "could not save ") << file << Qt::endl;
    return saved ? 0 : 1;
}

} // namespace

int main(int argc, char *argv[])
{
    if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"siterelay_guibench"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(SITERELAY_VERSION));
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption rateOption(u"rate"_s, u"Submissions per second."_s, u"N"_s, u"200"_s);
    const QCommandLineOption secondsOption(u"seconds"_s, u"How long to send."_s, u"S"_s, u"20"_s);
    const QCommandLineOption connectionsOption(u"connections"_s, u"Keep-alive client connections."_s, u"C"_s, u"16"_s);
    const QCommandLineOption engineOption(u"engine"_s, u"Run the processing engine (on|off)."_s, u"on|off"_s, u"on"_s);
    const QCommandLineOption dataDirOption(u"data-dir"_s, u"Use this data folder instead of a temporary one."_s,
                                           u"DIR"_s);
    const QCommandLineOption openOption(u"open"_s, u"Only measure how long the window takes to show its first rows."_s);
    const QCommandLineOption screenshotOption(u"screenshot"_s, u"Fill demo data and save the window as PNG."_s,
                                              u"FILE"_s);
    parser.addOptions(
        {rateOption, secondsOption, connectionsOption, engineOption, dataDirOption, openOption, screenshotOption});
    parser.process(app);

    QTemporaryDir dataDir;
    QTemporaryDir settingsDir;
    if (!dataDir.isValid() || !settingsDir.isValid())
        return 1;
    // The defaults a site runs with (synchronous=FULL, reports on); only the engine can be switched off.
    auto settings = Settings::load(
        QString(), {{u"engine/enabled"_s, parser.value(engineOption) == "on"_L1 ? u"true"_s : u"false"_s}});
    if (!settings) {
        std::fprintf(stderr, "%s\n", qPrintable(settings.error().message));
        return 2;
    }
    ServerHost::Options options;
    options.settings = *settings;
    options.dataDir = parser.isSet(dataDirOption) ? parser.value(dataDirOption) : dataDir.path();
    auto host = ServerHost::start(options);
    if (!host) {
        std::fprintf(stderr, "%s\n", qPrintable(host.error().message));
        return 1;
    }
    auto device = (*host)->store().addDevice(u"Tablet room 3"_s, DeviceRole::Device, u"bench"_s);
    device.waitForFinished();
    if (!device.result()) {
        std::fprintf(stderr, "%s\n", qPrintable(device.result().error().message));
        return 1;
    }
    const QByteArray token = device.result()->token.toUtf8();
    const QString settingsFile = settingsDir.filePath(u"dashboard.ini"_s);
    int code = 0;
    if (parser.isSet(openOption)) {
        code = runOpen(**host, settingsFile);
    } else if (parser.isSet(screenshotOption)) {
        code = runScreenshot(**host, token, parser.value(screenshotOption), settingsFile);
    } else {
        code = runLoad(**host, token, parser.value(rateOption).toInt(), parser.value(secondsOption).toInt(),
                       parser.value(connectionsOption).toInt(), settingsFile);
    }
    host->reset(); // stops the server and the engine, blocking
    return code;
}
