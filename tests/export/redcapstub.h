#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QMutex>
#include <QObject>
#include <QStringList>
#include <QThread>

#include <memory>

namespace SiteRelay::Test {

/**
 * A local HTTP server that behaves like REDCap's API record import (and, in generic mode, like a
 * platform taking an ODM file). It runs on its own thread, so a test may block (running the real
 * binary to completion) while the stub answers. It checks what REDCap checks: the token, the form
 * fields (content=record, format=json, type=flat, overwriteBehavior=normal, returnContent=ids,
 * returnFormat=json) and that data is a JSON array of records with the record id field; a request
 * that fails a check is answered 400 and counted in protocolErrors(). Each request can be told to
 * answer differently (by its number, counted from 1): 400 with per-field errors, 401, 500, 429,
 * slow, dropped connection, wrong ids.
 *
 * A record counts as confirmed only when its 200 answer was written to a client still connected:
 * an answer whose client was killed while it waited is not a confirmation. Thread-safe accessors.
 */
class RedcapStub
{
public:
    enum class Mode { Redcap, Generic };
    enum class Behaviour { Ok, FieldErrors400, Unauthorized401, ServerError500, TooMany429, Drop, WrongIds, Slow };

    struct Request
    {
        int number = 0;
        QByteArray method;
        QByteArray path;
        QHash<QByteArray, QByteArray> headers; ///< lower-case names
        QByteArray body;
        QHash<QString, QString> form; ///< decoded form fields (REDCap mode)
        QStringList recordIds;        ///< of the data field, in order
        QList<QJsonObject> records() const;
    };

    explicit RedcapStub(Mode mode = Mode::Redcap, QByteArray token = "STUB-TOKEN-0123456789",
                        QString recordIdField = QStringLiteral("record_id"));
    ~RedcapStub();

    bool isListening() const { return m_port != 0; }
    quint16 port() const { return m_port; }
    QString url() const;
    QByteArray token() const { return m_token; }

    /// How requests without their own behaviour are answered (default Ok).
    void setDefaultBehaviour(Behaviour behaviour);
    /// How request @p number (from 1) is answered.
    void setBehaviour(int number, Behaviour behaviour);
    /// Delay of Slow answers (then answered like Ok).
    void setSlowDelayMs(int ms);

    int requestCount() const;
    QList<Request> requests() const;
    QStringList receivedRecordIds() const;  ///< every id of every request, with repeats
    QStringList confirmedRecordIds() const; ///< every id answered 200 to a connected client, with repeats
    int protocolErrors() const;
    QStringList protocolErrorMessages() const;
    /// The per-field error text a FieldErrors400 answer carries (inside {"error": ...}).
    static QString fieldErrorText();

private:
    class Server;
    friend class Server;

    QByteArray m_token;
    QString m_recordIdField;
    Mode m_mode;
    std::unique_ptr<QThread> m_thread;
    QObject *m_context = nullptr; ///< lives on m_thread
    Server *m_server = nullptr;   ///< lives on m_thread
    quint16 m_port = 0;

    mutable QMutex m_mutex;
    Behaviour m_default = Behaviour::Ok;
    QHash<int, Behaviour> m_behaviours;
    int m_slowDelayMs = 3000;
    QList<Request> m_requests;
    QStringList m_confirmed;
    QStringList m_protocolErrors;
};

} // namespace SiteRelay::Test
