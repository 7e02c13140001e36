#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTcpSocket>

#include <memory>
#include <vector>

namespace SiteRelay::Test {

/// One submission the load sent, and what became of it as far as the client can tell.
struct SentSubmission
{
    QByteArray body; ///< the exact JSON that was sent, so it can be resent byte for byte
    QString patientId;
    QString questionnaireId;
    QString completedAt; ///< as sent, with its offset
    QJsonObject answers;
    int status = 0;       ///< HTTP status of its answer; 0: no answer (connection failed or closed first)
    bool written = false; ///< the request went out on an open connection (else: the connect failed)
    QString errorCode;    ///< the "code" of an error answer
    QString receivedAt;   ///< from a 2xx receipt

    bool acknowledged() const { return status == 200 || status == 202; }
};

/**
 * Drives many concurrent keep-alive HTTP connections against a SiteRelay on 127.0.0.1, each
 * posting one new submission (fresh UUID) at a time, and records every answer. Everything runs on
 * the test's thread through the event loop, so the test keeps control while the load is running
 * and can kill the server at any moment.
 *
 * A lane whose connection ends (server killed, drained, or refused) reconnects for its next
 * submission until the load is stopped or its budget is spent; a submission whose connection
 * fails before an answer keeps status 0.
 */
class SubmissionLoad final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SubmissionLoad)
public:
    /// @p totalSubmissions < 0: no limit, run until stop().
    SubmissionLoad(quint16 port, QByteArray token, int connections, int totalSubmissions = -1,
                   QObject *parent = nullptr);
    ~SubmissionLoad() override;

    void start();
    /// No new requests and no reconnects from now on; answers still owed are still read.
    void stop();
    /// True once every lane has no connection and nothing more will be sent.
    bool isFinished() const;

    int acknowledgedCount() const { return m_acknowledged; }
    int sentCount() const { return int(m_sent.size()); }
    /// Answers that came when no request was waiting on that connection.
    int unexpectedAnswers() const { return m_unexpectedAnswers; }
    const QHash<QString, SentSubmission> &submissions() const { return m_sent; }

    /// A new valid API v1 submission for @p submissionId (random answers, completedAt an hour ago).
    static SentSubmission makeSubmission(const QString &submissionId, int sequence);

Q_SIGNALS:
    /// After each 2xx answer, with the number acknowledged so far.
    void acknowledged(int total);

private:
    struct Lane
    {
        std::unique_ptr<QTcpSocket> socket;
        QByteArray buffer;
        QString inFlightId; ///< sent (or about to be, once connected) and not yet answered
    };

    void openLane(Lane &lane);
    void sendNext(Lane &lane);
    void writeRequest(Lane &lane);
    void readResponses(Lane &lane);
    void laneClosed(Lane &lane);
    bool mayStartAnother() const;

    quint16 m_port;
    QByteArray m_token;
    int m_total;
    bool m_stopped = false;
    int m_started = 0;
    int m_acknowledged = 0;
    int m_unexpectedAnswers = 0;
    std::vector<std::unique_ptr<Lane>> m_lanes;
    QHash<QString, SentSubmission> m_sent;
};

} // namespace SiteRelay::Test
