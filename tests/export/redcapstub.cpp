#include "redcapstub.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QMutexLocker>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrlQuery>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay::Test {
namespace {

QByteArray response(int status, const QByteArray &reason, const QByteArray &body,
                    const QList<QByteArray> &extraHeaders = {})
{
    QByteArray bytes = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
                       "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
                       "\r\n";
    for (const QByteArray &header : extraHeaders)
        bytes += header + "\r\n";
    return bytes + "\r\n" + body;
}

QByteArray errorBody(const QString &message)
{
    return QJsonDocument(QJsonObject{{u"error"_s, message}}).toJson(QJsonDocument::Compact);
}

} // namespace

QList<QJsonObject> RedcapStub::Request::records() const
{
    QList<QJsonObject> list;
    const QJsonArray array = QJsonDocument::fromJson(form.value(u"data"_s).toUtf8()).array();
    for (const QJsonValue &value : array)
        list.append(value.toObject());
    return list;
}

QString RedcapStub::fieldErrorText()
{
    return u"There were errors with your request.\n"
           u"\"record\",\"field_name\",\"value\",\"error_message\"\n"
           u"\"9f0c\",\"phq9_q1\",\"7\",\"The value is not a valid category for phq9_q1\"\n"
           u"\"9f0c\",\"phq9_band\",\"severe\",\"The value you provided could not be validated because it does not "
           u"follow the expected format.\""_s;
}

/// The part on the stub's thread: sockets, parsing, answers.
class RedcapStub::Server final : public QTcpServer
{
public:
    explicit Server(RedcapStub *stub)
        : m_stub(stub)
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] { read(socket); });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }

private:
    void read(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        for (;;) {
            const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return;
            Request request;
            const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
            const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
            request.method = requestLine.value(0);
            request.path = requestLine.value(1);
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines[i].indexOf(':');
                if (colon > 0)
                    request.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
            }
            const qsizetype length = request.headers.value("content-length").toLongLong();
            if (buffer.size() < headEnd + 4 + length)
                return;
            request.body = buffer.mid(headEnd + 4, length);
            buffer.remove(0, headEnd + 4 + length);
            handle(socket, std::move(request));
        }
    }

    void handle(QTcpSocket *socket, Request request)
    {
        QString problem;
        Behaviour behaviour;
        int slowMs;
        {
            QMutexLocker lock(&m_stub->m_mutex);
            request.number = int(m_stub->m_requests.size()) + 1;
            behaviour = m_stub->m_behaviours.value(request.number, m_stub->m_default);
            slowMs = m_stub->m_slowDelayMs;
        }
        if (m_stub->m_mode == Mode::Redcap) {
            // Form fields as REDCap decodes them ('+' is a space in application/x-www-form-urlencoded).
            const QList<QByteArray> pairs = request.body.split('&');
            for (const QByteArray &pair : pairs) {
                const qsizetype equals = pair.indexOf('=');
                QByteArray value = pair.mid(equals + 1);
                value.replace('+', ' ');
                request.form.insert(QString::fromUtf8(QByteArray::fromPercentEncoding(pair.left(equals))),
                                    QString::fromUtf8(QByteArray::fromPercentEncoding(value)));
            }
            static const QList<QPair<QString, QString>> fixed = {
                {u"content"_s, u"record"_s},           {u"format"_s, u"json"_s},       {u"type"_s, u"flat"_s},
                {u"overwriteBehavior"_s, u"normal"_s}, {u"returnContent"_s, u"ids"_s}, {u"returnFormat"_s, u"json"_s},
            };
            if (request.method != "POST")
                problem = u"method %1"_s.arg(QString::fromLatin1(request.method));
            else if (!request.headers.value("content-type").startsWith("application/x-www-form-urlencoded"))
                problem = u"content type %1"_s.arg(QString::fromLatin1(request.headers.value("content-type")));
            for (const auto &[name, value] : fixed) {
                if (problem.isEmpty() && request.form.value(name) != value)
                    problem = u"form field %1 is \"%2\", not \"%3\""_s.arg(name, request.form.value(name), value);
            }
            const QJsonDocument data = QJsonDocument::fromJson(request.form.value(u"data"_s).toUtf8());
            if (problem.isEmpty() && (!data.isArray() || data.array().isEmpty()))
                problem = u"data is not a non-empty JSON array"_s;
            for (const QJsonValue &record : data.array()) {
                const QString id = record.toObject().value(m_stub->m_recordIdField).toString();
                if (id.isEmpty() && problem.isEmpty())
                    problem = u"a record without %1"_s.arg(m_stub->m_recordIdField);
                request.recordIds.append(id);
            }
            if (request.form.value(u"token"_s).toUtf8() != m_stub->m_token && behaviour != Behaviour::Unauthorized401)
                behaviour = Behaviour::Unauthorized401;
        } else {
            if (request.method != "POST" || request.headers.value("content-type") != "application/xml" ||
                request.body.isEmpty())
                problem = u"generic upload: method, content type or body wrong"_s;
            if (request.headers.value("authorization") != "Bearer " + m_stub->m_token)
                behaviour = Behaviour::Unauthorized401;
        }
        {
            QMutexLocker lock(&m_stub->m_mutex);
            m_stub->m_requests.append(request);
            if (!problem.isEmpty())
                m_stub->m_protocolErrors.append(problem);
        }
        if (!problem.isEmpty()) {
            socket->write(response(400, "Bad Request", errorBody(u"stub: "_s + problem)));
            return;
        }
        switch (behaviour) {
        case Behaviour::Ok:
            answerOk(socket, request.recordIds);
            return;
        case Behaviour::Slow: {
            QPointer<QTcpSocket> guarded(socket);
            const QStringList ids = request.recordIds;
            QTimer::singleShot(slowMs, this, [this, guarded, ids] {
                if (guarded)
                    answerOk(guarded, ids);
            });
            return;
        }
        case Behaviour::FieldErrors400:
            socket->write(response(400, "Bad Request", errorBody(fieldErrorText())));
            return;
        case Behaviour::Unauthorized401:
            socket->write(response(401, "Unauthorized", errorBody(u"You do not have permissions to use the API"_s)));
            return;
        case Behaviour::ServerError500:
            socket->write(response(500, "Internal Server Error", errorBody(u"stub: temporary failure"_s)));
            return;
        case Behaviour::TooMany429:
            socket->write(response(429, "Too Many Requests", errorBody(u"stub: slow down"_s), {"Retry-After: 0"}));
            return;
        case Behaviour::Drop:
            socket->abort();
            return;
        case Behaviour::WrongIds:
            socket->write(response(200, "OK", QJsonDocument(QJsonArray{u"not-what-you-sent"_s}).toJson()));
            return;
        }
    }

    void answerOk(QTcpSocket *socket, const QStringList &ids)
    {
        // A client killed while the answer waited is gone: no confirmation reached it.
        if (socket->state() != QAbstractSocket::ConnectedState)
            return;
        const QByteArray body = m_stub->m_mode == Mode::Redcap
                                    ? QJsonDocument(QJsonArray::fromStringList(ids)).toJson(QJsonDocument::Compact)
                                    : QByteArray("{\"status\":\"accepted\"}");
        const QByteArray bytes = response(200, "OK", body);
        if (socket->write(bytes) != bytes.size())
            return;
        QMutexLocker lock(&m_stub->m_mutex);
        m_stub->m_confirmed.append(ids);
    }

    RedcapStub *m_stub;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

RedcapStub::RedcapStub(Mode mode, QByteArray token, QString recordIdField)
    : m_token(std::move(token))
    , m_recordIdField(std::move(recordIdField))
    , m_mode(mode)
    , m_thread(std::make_unique<QThread>())
{
    m_thread->setObjectName(u"redcap-stub"_s);
    m_thread->start();
    // A context object on the thread: the server must be created, used and deleted there.
    m_context = new QObject;
    m_context->moveToThread(m_thread.get());
    QMetaObject::invokeMethod(
        m_context,
        [this] {
            m_server = new Server(this);
            if (m_server->listen(QHostAddress::LocalHost, 0))
                m_port = m_server->serverPort();
        },
        Qt::BlockingQueuedConnection);
}

RedcapStub::~RedcapStub()
{
    QMetaObject::invokeMethod(
        m_context,
        [this] {
            delete m_server;
            delete m_context;
        },
        Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
}

QString RedcapStub::url() const
{
    return u"http://127.0.0.1:%1/api/"_s.arg(m_port);
}

void RedcapStub::setDefaultBehaviour(Behaviour behaviour)
{
    QMutexLocker lock(&m_mutex);
    m_default = behaviour;
}

void RedcapStub::setBehaviour(int number, Behaviour behaviour)
{
    QMutexLocker lock(&m_mutex);
    m_behaviours.insert(number, behaviour);
}

void RedcapStub::setSlowDelayMs(int ms)
{
    QMutexLocker lock(&m_mutex);
    m_slowDelayMs = ms;
}

int RedcapStub::requestCount() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_requests.size());
}

QList<RedcapStub::Request> RedcapStub::requests() const
{
    QMutexLocker lock(&m_mutex);
    return m_requests;
}

QStringList RedcapStub::receivedRecordIds() const
{
    QMutexLocker lock(&m_mutex);
    QStringList ids;
    for (const Request &request : m_requests)
        ids += request.recordIds;
    return ids;
}

QStringList RedcapStub::confirmedRecordIds() const
{
    QMutexLocker lock(&m_mutex);
    return m_confirmed;
}

int RedcapStub::protocolErrors() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_protocolErrors.size());
}

QStringList RedcapStub::protocolErrorMessages() const
{
    QMutexLocker lock(&m_mutex);
    return m_protocolErrors;
}

} // namespace SiteRelay::Test
