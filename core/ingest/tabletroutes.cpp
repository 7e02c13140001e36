#include "tabletroutes.h"

#include "futurecallback.h"
#include "logging.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <variant>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

const QString PageFolder = u":/tablet"_s;

QByteArray contentTypeFor(const QString &fileName)
{
    const QString suffix = fileName.section(u'.', -1).toLower();
    if (suffix == "html"_L1)
        return "text/html; charset=utf-8";
    if (suffix == "js"_L1)
        return "text/javascript; charset=utf-8";
    if (suffix == "css"_L1)
        return "text/css; charset=utf-8";
    if (suffix == "svg"_L1)
        return "image/svg+xml";
    if (suffix == "png"_L1)
        return "image/png";
    if (suffix == "webmanifest"_L1)
        return "application/manifest+json";
    return {};
}

// Compares digests in time independent of where they differ, so the answer's timing does not
// tell how much of a PIN matched.
bool equalConstantTime(const QByteArray &a, const QByteArray &b)
{
    const QByteArray x = QCryptographicHash::hash(a, QCryptographicHash::Sha256);
    const QByteArray y = QCryptographicHash::hash(b, QCryptographicHash::Sha256);
    unsigned char difference = 0;
    for (qsizetype i = 0; i < x.size(); ++i)
        difference |= static_cast<unsigned char>(x[i] ^ y[i]);
    return difference == 0;
}

// The one JSON string field of a small request body, or the error to answer.
std::variant<QString, ApiResponse> stringField(const HttpRequest &request, const QString &field)
{
    const QByteArray type = request.header("Content-Type").split(';').value(0).trimmed().toLower();
    if (type != "application/json")
        return ApiResponse::error(415, u"unsupported_media_type"_s,
                                  u"Send the body as JSON with Content-Type: application/json."_s);
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(request.body, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return ApiResponse::error(400, u"malformed_json"_s,
                                  u"The body must be a JSON object like {\"%1\": \"...\"}."_s.arg(field));
    const QJsonValue value = document.object().value(field);
    if (!value.isString() || value.toString().isEmpty())
        return ApiResponse::error(400, u"missing_field"_s, u"%1 is required and must be a string."_s.arg(field), field);
    return value.toString();
}

} // namespace

const QByteArray TabletRoutes::ContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

TabletRoutes::TabletRoutes(SubmissionStore &store, std::shared_ptr<Clock> clock, Settings settings, QObject *parent)
    : QObject(parent)
    , m_enrollment(store)
    , m_clock(std::move(clock))
    , m_settings(std::move(settings))
    , m_pinLimiter(*m_clock, PinMaxFailures, PinWindowMs)
    , m_enrollLimiter(*m_clock, EnrollMaxFailures, EnrollWindowMs)
{}

ApiResponse TabletRoutes::page(const HttpRequest &request) const
{
    const QStringList segments = request.path.split(u'/', Qt::SkipEmptyParts);
    QString name = segments.size() == 1 ? u"index.html"_s : segments.value(1);
    // Only a file that is in the page's folder, by its exact name: "..", "%2e%2e", "a/b" or a
    // name with a backslash can never match one, so nothing outside the folder can be reached.
    static const QStringList files = QDir(PageFolder).entryList(QDir::Files, QDir::Name);
    const QByteArray type = contentTypeFor(name);
    ApiResponse response;
    if (segments.size() > 2 || !files.contains(name) || type.isEmpty()) {
        response = ApiResponse::error(404, u"not_found"_s, u"The tablet page has no file %1."_s.arg(request.path));
    } else {
        QFile file(PageFolder + u'/' + name);
        if (!file.open(QIODevice::ReadOnly))
            return ApiResponse::error(500, u"internal_error"_s, u"The tablet page cannot be read."_s);
        response = ApiResponse::text(200, type, file.readAll());
    }
    response.addHeader("Content-Security-Policy", ContentSecurityPolicy);
    response.addHeader("Referrer-Policy", "no-referrer");
    response.addHeader("X-Frame-Options", "DENY");
    return response;
}

ApiResponse TabletRoutes::tooManyAttempts(int retryAfterSeconds, const QString &what)
{
    ApiResponse response = ApiResponse::error(
        429, u"too_many_attempts"_s,
        u"Too many wrong %1. Wait %2 seconds before trying again."_s.arg(what).arg(retryAfterSeconds));
    response.addHeader("Retry-After", QByteArray::number(retryAfterSeconds));
    return response;
}

void TabletRoutes::enroll(const HttpRequest &request, Answer answer)
{
    const QString client = u"addr:"_s + request.peer.toString();
    if (const int wait = m_enrollLimiter.retryAfterSeconds(client); wait > 0) {
        qCWarning(lcIngest).noquote() << "enrollment refused for" << request.peer.toString()
                                      << "after too many failed codes";
        answer(tooManyAttempts(wait, u"enrollment codes"_s));
        return;
    }
    auto code = stringField(request, u"code"_s);
    if (auto *refused = std::get_if<ApiResponse>(&code)) {
        m_enrollLimiter.recordFailure(client);
        answer(*refused);
        return;
    }
    const QString actor = u"enroll:%1"_s.arg(request.peer.toString());
    whenFinished(
        m_enrollment.redeem(std::get<QString>(code), actor), this,
        [this, client, answer, peer = request.peer](const Expected<NewDevice> &device) {
            if (!device) {
                if (device.error().code != ErrorCode::StorageUnavailable && device.error().code != ErrorCode::Internal)
                    m_enrollLimiter.recordFailure(client);
                qCInfo(lcIngest).noquote()
                    << "enrollment from" << peer.toString() << "refused:" << device.error().reason;
                answer(ApiResponse::fromError(device.error(), m_settings.integer(SettingKey::IngestRetryAfterSeconds)));
                return;
            }
            qCInfo(lcIngest).noquote() << "device" << device->record.id << "enrolled from" << peer.toString();
            answer(ApiResponse::json(200, QJsonObject{{u"token"_s, device->token},
                                                      {u"deviceId"_s, device->record.id},
                                                      {u"deviceName"_s, device->record.name}}));
        });
}

ApiResponse TabletRoutes::unlock(const HttpRequest &request, qint64 deviceId)
{
    const QString deviceKey = u"device:%1"_s.arg(deviceId);
    const QString clientKey = u"addr:"_s + request.peer.toString();
    if (const int wait = qMax(m_pinLimiter.retryAfterSeconds(deviceKey), m_pinLimiter.retryAfterSeconds(clientKey));
        wait > 0)
        return tooManyAttempts(wait, u"PINs"_s);
    auto pin = stringField(request, u"pin"_s);
    if (auto *refused = std::get_if<ApiResponse>(&pin))
        return *refused;
    const QString expected = m_settings.text(SettingKey::TabletCoordinatorPin);
    if (expected.isEmpty())
        return ApiResponse::error(403, u"pin_not_configured"_s,
                                  u"No coordinator PIN is set on the server. Set tablet/coordinatorPin in SiteRelay's "
                                  u"settings, then try again."_s);
    if (!equalConstantTime(std::get<QString>(pin).toUtf8(), expected.toUtf8())) {
        m_pinLimiter.recordFailure(deviceKey);
        m_pinLimiter.recordFailure(clientKey);
        qCWarning(lcIngest).noquote() << "wrong coordinator PIN from device" << deviceId;
        return ApiResponse::error(403, u"wrong_pin"_s, u"That PIN is not right."_s, u"pin"_s);
    }
    m_pinLimiter.reset(deviceKey);
    m_pinLimiter.reset(clientKey);
    return ApiResponse::json(200, QJsonObject{{u"unlocked"_s, true}});
}

} // namespace SiteRelay
