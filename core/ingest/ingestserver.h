#pragma once

#include "clock.h"
#include "connectionlimits.h"
#include "device.h"
#include "expected.h"
#include "httprequest.h"
#include "responseslot.h"
#include "reviewservice.h"
#include "settings.h"
#include "submissionparser.h"
#include "taskqueue.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>

#include <memory>
#include <vector>

namespace SiteRelay {

class AlertReader;
class ExportService;
class GuardedTcpServer;
class HttpServerAdapter;
class QuestionnaireCatalog;
class StoreReader;
class TabletRoutes;
class SubmissionStore;
class TaskEngine;

/// Counters of the running server, for /api/v1/stats and /metrics.
struct IngestCounters
{
    qint64 accepted = 0;    ///< submissions stored (202)
    qint64 duplicates = 0;  ///< resent submissions recognised (200)
    qint64 rejected = 0;    ///< submissions refused (4xx)
    qint64 unavailable = 0; ///< submissions not stored because the store failed (503)
};

/**
 * The ingest API v1 (and the original service's /data/submit): routes, authentication and the
 * mapping of core results to responses. Construct, use and destroy it on the server thread; it
 * opens its own read connection there. Submissions are answered only once the store's group
 * commit holding them returned.
 */
class IngestServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(IngestServer)
public:
    struct Dependencies
    {
        SubmissionStore *store = nullptr;
        const QuestionnaireCatalog *catalog = nullptr;
        TaskEngine *engine = nullptr; ///< null when processing is disabled
        std::shared_ptr<Clock> clock;
        Settings settings;
    };

    explicit IngestServer(Dependencies dependencies, QObject *parent = nullptr);
    ~IngestServer() override;

    /// Opens the read connection and starts listening; returns the port.
    Expected<quint16> listen(const QHostAddress &address, quint16 port);
    /// Stops listening; connections finish their current answer and close. Emits drained() once
    /// no answer is owed any more.
    void drain();
    int answersOwed() const { return m_answersOwed; }

Q_SIGNALS:
    void drained();

private:
    enum class Access { Open, LoopbackOrCoordinator, AnyToken, Coordinator };
    struct Caller
    {
        std::optional<AuthenticatedDevice> device;
    };
    using Handler = void (IngestServer::*)(const HttpRequest &, const Caller &, const QStringList &, ResponseSlot);
    struct Route
    {
        QByteArray method;
        QStringList segments; ///< "{}" matches one path segment
        Access access;
        Handler handler;
    };

    void handle(const HttpRequest &request, ResponseSlot slot);
    Expected<Caller> authorize(const HttpRequest &request, Access access);
    void postSubmission(const HttpRequest &request, const Caller &caller, const QStringList &, ResponseSlot slot);
    void postLegacySubmit(const HttpRequest &request, const Caller &caller, const QStringList &, ResponseSlot slot);
    void getSubmission(const HttpRequest &request, const Caller &caller, const QStringList &args, ResponseSlot slot);
    void postCancel(const HttpRequest &request, const Caller &caller, const QStringList &args, ResponseSlot slot);
    void postRetry(const HttpRequest &request, const Caller &caller, const QStringList &args, ResponseSlot slot);
    void getAlerts(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot);
    void postAcknowledgeAlert(const HttpRequest &request, const Caller &caller, const QStringList &args,
                              ResponseSlot slot);
    void postReview(const HttpRequest &request, const Caller &caller, const QStringList &args, ResponseSlot slot);
    void getQuestionnaires(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot);
    void getHealth(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot);
    void getStats(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot);
    void getMetrics(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot);
    void postBenchEcho(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot);
    // Batch export (logic in ExportService, core/export/).
    void postExport(const HttpRequest &request, const Caller &caller, const QStringList &, ResponseSlot slot);
    void getExports(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot);
    void getExport(const HttpRequest &request, const Caller &, const QStringList &args, ResponseSlot slot);
    void getTabletPage(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot);
    void postEnroll(const HttpRequest &request, const Caller &, const QStringList &, ResponseSlot slot);
    void postTabletUnlock(const HttpRequest &request, const Caller &caller, const QStringList &, ResponseSlot slot);

    /// Stores a parsed submission and answers once committed; @p respond builds the success body.
    void storeAndAnswer(NewSubmission submission, ResponseSlot slot, bool legacy);
    ApiResponse errorResponse(const Error &error) const;
    void answerOwedDone();
    std::optional<ApiResponse> checkJsonContentType(const HttpRequest &request) const;
    QJsonObject statsObject();

    Dependencies m_deps;
    SubmissionParser m_parser;
    TaskQueue m_queue; ///< for cancel and requeue when the engine is disabled
    std::vector<Route> m_routes;
    std::unique_ptr<StoreReader> m_reader;
    TabletRoutes *m_tablet = nullptr;           ///< child: page, enrollment, PIN
    ExportService *m_exports = nullptr;         ///< child: export jobs (each on its own thread)
    ReviewService m_review;                     ///< alert acknowledgement and review decisions
    std::unique_ptr<AlertReader> m_alertReader; ///< its own read connection, opened in listen()
    QPointer<GuardedTcpServer> m_tcpServer;
    QPointer<HttpServerAdapter> m_http;
    QHash<qint64, qint64> m_lastSeenRecordedMs;
    IngestCounters m_counters;
    int m_answersOwed = 0;
    bool m_draining = false;
    qint64 m_startedMs = 0;
};

} // namespace SiteRelay
