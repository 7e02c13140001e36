#include "submissionload.h"

#include "rawhttpclient.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTimer>
#include <QUuid>

#include <utility>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay::Test {

SubmissionLoad::SubmissionLoad(quint16 port, QByteArray token, int connections, int totalSubmissions, QObject *parent)
    : QObject(parent)
    , m_port(port)
    , m_token(std::move(token))
    , m_total(totalSubmissions)
{
    for (int i = 0; i < connections; ++i)
        m_lanes.push_back(std::make_unique<Lane>());
}

SubmissionLoad::~SubmissionLoad()
{
    for (const auto &lane : m_lanes) {
        if (lane->socket) {
            lane->socket->disconnect(this);
            lane->socket->abort();
        }
    }
}

SentSubmission SubmissionLoad::makeSubmission(const QString &submissionId, int sequence)
{
    SentSubmission sent;
    sent.patientId = u"P-%1"_s.arg(sequence % 40, 3, 10, QChar(u'0'));
    sent.questionnaireId = sequence % 2 == 0 ? u"phq9"_s : u"gad7"_s;
    const int items = sent.questionnaireId == "phq9"_L1 ? 9 : 7;
    for (int i = 1; i <= items; ++i)
        sent.answers.insert(u"%1_q%2"_s.arg(sent.questionnaireId).arg(i), int(QRandomGenerator::global()->bounded(4)));
    // An hour ago, written with a +01:00 offset: the server must normalise it to UTC.
    sent.completedAt = QDateTime::currentDateTimeUtc().addSecs(-3600).toOffsetFromUtc(3600).toString(Qt::ISODate);
    const QJsonObject body{
        {u"submissionId"_s, submissionId},    {u"patientId"_s, sent.patientId},
        {u"trialId"_s, u"TRIAL-E2E"_s},       {u"questionnaireId"_s, sent.questionnaireId},
        {u"completedAt"_s, sent.completedAt}, {u"answers"_s, sent.answers},
    };
    sent.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
    return sent;
}

void SubmissionLoad::start()
{
    for (const auto &lane : m_lanes)
        openLane(*lane);
}

void SubmissionLoad::stop()
{
    m_stopped = true;
    for (const auto &lane : m_lanes) {
        // A lane between answers has nothing owed; one still waiting keeps its connection for it.
        if (lane->socket && lane->inFlightId.isEmpty())
            lane->socket->disconnectFromHost();
    }
}

bool SubmissionLoad::isFinished() const
{
    if (!m_stopped && mayStartAnother())
        return false;
    for (const auto &lane : m_lanes) {
        if (lane->socket)
            return false;
    }
    return true;
}

bool SubmissionLoad::mayStartAnother() const
{
    return !m_stopped && (m_total < 0 || m_started < m_total);
}

void SubmissionLoad::openLane(Lane &lane)
{
    if (!mayStartAnother())
        return;
    // The submission is chosen before connecting, so a refused connection uses up one attempt:
    // with a limited budget the load ends even when the server is gone.
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    m_sent.insert(id, makeSubmission(id, m_started++));
    lane.inFlightId = id;
    lane.buffer.clear();
    lane.socket = std::make_unique<QTcpSocket>();
    QTcpSocket *socket = lane.socket.get();
    connect(socket, &QTcpSocket::connected, this, [this, &lane] {
        if (m_stopped)
            lane.socket->disconnectFromHost(); // stopped while connecting: nothing new goes out
        else
            writeRequest(lane);
    });
    connect(socket, &QTcpSocket::readyRead, this, [this, &lane] { readResponses(lane); });
    connect(socket, &QTcpSocket::stateChanged, this, [this, &lane](QAbstractSocket::SocketState state) {
        if (state == QAbstractSocket::UnconnectedState)
            laneClosed(lane);
    });
    socket->connectToHost(u"127.0.0.1"_s, m_port);
}

void SubmissionLoad::sendNext(Lane &lane)
{
    if (!mayStartAnother()) {
        lane.socket->disconnectFromHost();
        return;
    }
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    m_sent.insert(id, makeSubmission(id, m_started++));
    lane.inFlightId = id;
    writeRequest(lane);
}

void SubmissionLoad::writeRequest(Lane &lane)
{
    SentSubmission &sent = m_sent[lane.inFlightId];
    sent.written = true;
    lane.socket->write(
        RawHttpClient::request("POST", "/api/v1/submissions", sent.body,
                               {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + m_token}}));
}

void SubmissionLoad::readResponses(Lane &lane)
{
    if (!lane.socket)
        return;
    lane.buffer += lane.socket->readAll();
    for (;;) {
        const qsizetype headEnd = lane.buffer.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return;
        const QList<QByteArray> lines = lane.buffer.left(headEnd).split('\n');
        const int status = lines.value(0).trimmed().split(' ').value(1).toInt();
        qint64 contentLength = 0;
        bool closes = false;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines[i].trimmed();
            const qsizetype colon = line.indexOf(':');
            const QByteArray name = line.left(colon).trimmed().toLower();
            const QByteArray value = line.mid(colon + 1).trimmed();
            if (name == "content-length")
                contentLength = value.toLongLong();
            else if (name == "connection")
                closes = value.toLower() == "close";
        }
        if (lane.buffer.size() < headEnd + 4 + contentLength)
            return;
        const QJsonObject json = QJsonDocument::fromJson(lane.buffer.mid(headEnd + 4, contentLength)).object();
        lane.buffer.remove(0, headEnd + 4 + contentLength);

        const QString id = std::exchange(lane.inFlightId, QString());
        if (id.isEmpty()) {
            ++m_unexpectedAnswers; // one request, one answer: anything more is a server fault
            continue;
        }
        SentSubmission &sent = m_sent[id];
        sent.status = status;
        sent.errorCode = json.value("error"_L1).toObject().value("code"_L1).toString();
        if (sent.acknowledged()) {
            // A receipt for another submission would be a wrong acknowledgement: record it as
            // no acknowledgement at all, which the durability checks then report.
            if (json.value("submissionId"_L1).toString() != id) {
                sent.status = -1;
                sent.errorCode = u"receipt_for_another_submission"_s;
            } else {
                sent.receivedAt = json.value("receivedAt"_L1).toString();
                Q_EMIT acknowledged(++m_acknowledged);
            }
        }
        // A slot of acknowledged() may have stopped the load, and the lane closed meanwhile.
        if (!lane.socket)
            return;
        if (closes)
            continue; // the server ends this connection; laneClosed() opens the next one
        sendNext(lane);
        if (!lane.socket)
            return;
    }
}

void SubmissionLoad::laneClosed(Lane &lane)
{
    if (!lane.socket)
        return;
    readResponses(lane); // answers that arrived just before the close still count
    if (!lane.socket)
        return;
    lane.inFlightId.clear(); // whatever is still owed stays status 0: no answer
    lane.socket->disconnect(this);
    lane.socket.release()->deleteLater();
    // Reopened from the event loop, not from inside the old socket's signal.
    QTimer::singleShot(0, this, [this, &lane] {
        if (!lane.socket)
            openLane(lane);
    });
}

} // namespace SiteRelay::Test
