#include "storewriter.h"

#include "logging.h"

#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

StoreWriter::StoreWriter(Database::Options options, int maxBatch)
    : m_options(std::move(options))
    , m_maxBatch(maxBatch)
{}

StoreWriter::~StoreWriter()
{
    closeDatabase();
}

Expected<Done> StoreWriter::openDatabase()
{
    auto db = Database::open(m_options);
    if (!db)
        return db.error();
    m_open = true;
    return Done{};
}

void StoreWriter::enqueue(std::shared_ptr<WriteJob> job)
{
    if (!m_open) {
        job->failed(
            Error{ErrorCode::StorageUnavailable, u"the database is closed"_s, QString(), u"storage_unavailable"_s});
        return;
    }
    m_batch.push_back(std::move(job));
    if (int(m_batch.size()) >= m_maxBatch)
        flush();
    else
        scheduleFlush();
}

void StoreWriter::scheduleFlush()
{
    if (m_flushScheduled)
        return;
    m_flushScheduled = true;
    // Posted behind every job already queued for this thread, so they all join this batch.
    QMetaObject::invokeMethod(this, &StoreWriter::flush, Qt::QueuedConnection);
}

void StoreWriter::flush()
{
    m_flushScheduled = false;
    if (m_batch.empty())
        return;
    std::vector<std::shared_ptr<WriteJob>> batch;
    batch.swap(m_batch);

    QSqlDatabase db = QSqlDatabase::database(m_options.connectionName, false);
    const auto failAll = [&](const Error &error) {
        qCWarning(lcStore).noquote() << "batch of" << batch.size() << "not committed:" << error.message;
        QSqlQuery(db).exec(u"ROLLBACK"_s);
        for (const auto &job : batch)
            job->failed(error);
    };

    if (auto begun = Database::exec(db, u"BEGIN IMMEDIATE"_s); !begun)
        return failAll(begun.error());
    for (const auto &job : batch) {
        if (auto done = job->execute(db); !done)
            return failAll(done.error());
    }
    QSqlQuery commit(db);
    if (!commit.exec(u"COMMIT"_s))
        return failAll(Database::storageError(u"committing"_s, commit.lastError()));
    bool queuedWork = false;
    for (const auto &job : batch) {
        queuedWork = queuedWork || job->queuesWork();
        job->committed();
    }
    Q_EMIT batchCommitted(int(batch.size()));
    if (queuedWork)
        Q_EMIT workQueued();
}

void StoreWriter::closeDatabase()
{
    if (!m_open)
        return;
    flush();
    m_open = false;
    Database::close(m_options.connectionName);
}

} // namespace SiteRelay
