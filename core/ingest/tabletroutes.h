#pragma once

#include "apiresponse.h"
#include "attemptlimiter.h"
#include "clock.h"
#include "enrollmentservice.h"
#include "httprequest.h"
#include "settings.h"

#include <QObject>

#include <functional>
#include <memory>

namespace SiteRelay {

class SubmissionStore;

/**
 * What the tablet page needs from the server besides the submission API: the page itself
 * (GET /tablet/ and its assets, compiled in from resources/tablet), enrollment by one-time code
 * (POST /api/v1/enroll) and the coordinator PIN check (POST /api/v1/tablet/unlock). IngestServer
 * routes to it; it lives on the server thread with it and must be used there only.
 */
class TabletRoutes final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TabletRoutes)
public:
    /// Wrong PINs allowed per device and per client address within PinWindowMs.
    static constexpr int PinMaxFailures = 5;
    static constexpr qint64 PinWindowMs = 5 * 60 * 1000;
    /// Failed redemptions allowed per client address within EnrollWindowMs.
    static constexpr int EnrollMaxFailures = 10;
    static constexpr qint64 EnrollWindowMs = 10 * 60 * 1000;
    /// Sent with every file of the page: nothing but the page's own files, no inline code.
    static const QByteArray ContentSecurityPolicy;

    using Answer = std::function<void(const ApiResponse &)>;

    TabletRoutes(SubmissionStore &store, std::shared_ptr<Clock> clock, Settings settings, QObject *parent = nullptr);

    /// GET /tablet, /tablet/ (index.html) and /tablet/NAME for a file of the page; 404 otherwise.
    ApiResponse page(const HttpRequest &request) const;
    /// POST /api/v1/enroll {"code"}: 200 {"token","deviceId","deviceName"}; @p answer is called
    /// once, on this thread (never if this object is destroyed first).
    void enroll(const HttpRequest &request, Answer answer);
    /// POST /api/v1/tablet/unlock {"pin"} by device @p deviceId: 200, 403 or 429 with Retry-After.
    ApiResponse unlock(const HttpRequest &request, qint64 deviceId);

private:
    static ApiResponse tooManyAttempts(int retryAfterSeconds, const QString &what);

    EnrollmentService m_enrollment;
    std::shared_ptr<Clock> m_clock;
    Settings m_settings;
    AttemptLimiter m_pinLimiter;
    AttemptLimiter m_enrollLimiter;
};

} // namespace SiteRelay
