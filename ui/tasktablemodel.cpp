#include "tasktablemodel.h"

#include "futurecallback.h"
#include "questionnairecatalog.h"
#include "statestyle.h"

#include <QBrush>
#include <QDateTime>
#include <QFont>
#include <QSet>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

QString localTime(const QString &iso)
{
    const QDateTime time = QDateTime::fromString(iso, Qt::ISODateWithMs);
    return time.isValid() ? time.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_s) : iso;
}

} // namespace

TaskTableModel::TaskTableModel(DashboardReader &reader, const QuestionnaireCatalog *catalog, QObject *parent)
    : QAbstractTableModel(parent)
    , m_reader(reader)
    , m_catalog(catalog)
{
    m_query.limit = m_pageSize;
    reload();
}

int TaskTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int TaskTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : taskColumnCount;
}

QString TaskTableModel::bandLabel(const TaskRow &row) const
{
    if (m_catalog) {
        if (const Questionnaire *q = m_catalog->find(row.questionnaireId)) {
            for (const ScoreBand &band : q->scoring.bands) {
                if (band.id == row.scoreBand)
                    return band.label;
            }
        }
    }
    return row.scoreBand;
}

QString TaskTableModel::scoreText(const TaskRow &row) const
{
    if (!row.scoreTotal)
        return {};
    const QString band = bandLabel(row);
    return band.isEmpty() ? QString::number(*row.scoreTotal) : u"%1 · %2"_s.arg(*row.scoreTotal).arg(band);
}

QVariant TaskTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const TaskRow &row = m_rows.at(index.row());
    const auto column = TaskColumn(index.column());
    switch (role) {
    case SubmissionIdRole:
        return row.submissionId;
    case StateRole:
        return row.state;
    case RowIdRole:
        return row.rowId;
    case SortValueRole:
        return row.key.value;
    case Qt::DisplayRole:
        switch (column) {
        case TaskColumn::Received:
            return localTime(row.receivedAt);
        case TaskColumn::Patient:
            return row.patientId;
        case TaskColumn::Trial:
            return row.trialId;
        case TaskColumn::Questionnaire:
            if (m_catalog) {
                if (const Questionnaire *q = m_catalog->find(row.questionnaireId))
                    return q->shortTitle.isEmpty() ? q->title : q->shortTitle;
            }
            return row.questionnaireId;
        case TaskColumn::Device:
            return row.deviceName.isEmpty() ? u"#%1"_s.arg(row.deviceId) : row.deviceName;
        case TaskColumn::State:
            return StateStyle::label(row.state);
        case TaskColumn::Attempts:
            return row.attemptCount;
        case TaskColumn::Score:
            return scoreText(row);
        case TaskColumn::Alert:
            if (row.alerts == 0)
                return QString();
            if (row.unacknowledgedAlerts > 0)
                return tr("%1 – not acknowledged").arg(row.alertSeverity);
            return tr("%1 – acknowledged").arg(row.alertSeverity);
        case TaskColumn::ExportBatch:
            return row.exportBatchId;
        }
        return {};
    case Qt::DecorationRole:
        if (column == TaskColumn::State)
            return StateStyle::icon(row.state);
        if (column == TaskColumn::Alert && row.alerts > 0)
            return StateStyle::alertIcon(row.alertSeverity, row.unacknowledgedAlerts == 0);
        return {};
    case Qt::BackgroundRole:
        if (column == TaskColumn::State)
            return QBrush(StateStyle::tint(row.state));
        return {};
    case Qt::ForegroundRole:
        if (column == TaskColumn::State || column == TaskColumn::Alert)
            return QBrush(Qt::black); // readable on the tint whatever the theme
        return {};
    case Qt::FontRole:
        if (column == TaskColumn::Alert && row.unacknowledgedAlerts > 0) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    case Qt::TextAlignmentRole:
        if (column == TaskColumn::Attempts)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ToolTipRole:
        switch (column) {
        case TaskColumn::Received:
            return tr("Received %1 (UTC)\nSubmission %2").arg(row.receivedAt, row.submissionId);
        case TaskColumn::State: {
            QString tip = StateStyle::label(row.state) + u": "_s + StateStyle::description(row.state);
            if (!row.lastError.isEmpty())
                tip += u"\n"_s + tr("Last error: %1").arg(row.lastError);
            if (!row.nextAttemptAt.isEmpty())
                tip += u"\n"_s + tr("Next attempt: %1").arg(localTime(row.nextAttemptAt));
            return tip;
        }
        case TaskColumn::Attempts:
            return row.lastError.isEmpty() ? tr("Attempts made") : tr("Last error: %1").arg(row.lastError);
        case TaskColumn::Score:
            return row.scoreTotal ? scoreText(row) : tr("Not scored yet");
        case TaskColumn::Alert:
            if (row.alerts == 0)
                return tr("No safety alert");
            return tr("%n safety alert(s), %1 not acknowledged", nullptr, row.alerts).arg(row.unacknowledgedAlerts);
        case TaskColumn::ExportBatch:
            return row.exportBatchId.isEmpty() ? tr("Not exported yet")
                                               : tr("Exported in batch %1").arg(row.exportBatchId);
        default:
            return {};
        }
    default:
        return {};
    }
}

QVariant TaskTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= taskColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        static const char *const titles[taskColumnCount] = {
            QT_TR_NOOP("Received"), QT_TR_NOOP("Patient"),      QT_TR_NOOP("Trial"),    QT_TR_NOOP("Questionnaire"),
            QT_TR_NOOP("Device"),   QT_TR_NOOP("State"),        QT_TR_NOOP("Attempts"), QT_TR_NOOP("Score and band"),
            QT_TR_NOOP("Alert"),    QT_TR_NOOP("Export batch"),
        };
        return tr(titles[section]);
    }
    if (role == Qt::ToolTipRole) {
        static const char *const tips[taskColumnCount] = {
            QT_TR_NOOP("When SiteRelay stored the submission (local time)"),
            QT_TR_NOOP("The patient ID the tablet sent"),
            QT_TR_NOOP("The trial the submission belongs to"),
            QT_TR_NOOP("Which questionnaire was answered"),
            QT_TR_NOOP("The tablet that sent it"),
            QT_TR_NOOP("Where processing stands"),
            QT_TR_NOOP("Processing attempts made so far"),
            QT_TR_NOOP("Total score and severity band"),
            QT_TR_NOOP("Safety alerts and whether they were acknowledged"),
            QT_TR_NOOP("The export batch that carried it to the trial platform"),
        };
        return tr(tips[section]);
    }
    return QAbstractTableModel::headerData(section, orientation, role);
}

bool TaskTableModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_hasMore && !m_fetchPending;
}

void TaskTableModel::fetchMore(const QModelIndex &parent)
{
    if (parent.isValid() || !m_hasMore || m_fetchPending)
        return;
    if (m_refreshPending || m_rows.isEmpty()) {
        // The page would continue a list that is about to change; ask again once it has.
        m_fetchWanted = true;
        return;
    }
    m_fetchPending = true;
    m_fetchWanted = false;
    TaskQuery query = m_query;
    query.limit = m_pageSize;
    query.after = m_rows.last().key;
    const quint64 generation = m_generation;
    const quint64 listVersion = m_listVersion;
    whenFinished(m_reader.tasks(query), this, [this, generation, listVersion](const Expected<TaskPage> &page) {
        if (generation != m_generation)
            return; // a reload cleared m_fetchPending already
        m_fetchPending = false;
        if (!page) {
            Q_EMIT readFailed(page.error().message);
            return;
        }
        if (listVersion != m_listVersion) {
            fetchMore({});
            return;
        }
        appendPage(page->rows, page->hasMore);
    });
}

void TaskTableModel::appendPage(const QList<TaskRow> &rows, bool hasMore)
{
    QList<TaskRow> added;
    added.reserve(rows.size());
    for (const TaskRow &row : rows) {
        if (!m_rowById.contains(row.rowId))
            added.append(row);
    }
    m_hasMore = hasMore;
    if (added.isEmpty())
        return;
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(added.size()) - 1);
    for (const TaskRow &row : std::as_const(added)) {
        m_rowById.insert(row.rowId, int(m_rows.size()));
        m_rows.append(row);
    }
    endInsertRows();
}

void TaskTableModel::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= taskColumnCount)
        return;
    const bool descending = order == Qt::DescendingOrder;
    if (m_query.sortColumn == TaskColumn(column) && m_query.descending == descending)
        return;
    m_query.sortColumn = TaskColumn(column);
    m_query.descending = descending;
    reload();
}

void TaskTableModel::setStateFilter(const QString &state)
{
    if (m_query.state == state)
        return;
    m_query.state = state;
    reload();
}

void TaskTableModel::setSearchText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (m_query.search == trimmed)
        return;
    m_query.search = trimmed;
    reload();
}

void TaskTableModel::setPageSize(int rows)
{
    m_pageSize = qMax(1, rows);
}

int TaskTableModel::rowOf(const QString &submissionId) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).submissionId == submissionId)
            return i;
    }
    return -1;
}

void TaskTableModel::reload()
{
    ++m_generation;
    beginResetModel();
    m_rows.clear();
    m_rowById.clear();
    m_hasMore = false;
    m_fetchPending = false;
    m_fetchWanted = false;
    m_refreshPending = false;
    m_refreshAgain = false;
    endResetModel();
    refresh();
}

void TaskTableModel::refresh()
{
    if (m_refreshPending) {
        m_refreshAgain = true;
        return;
    }
    m_refreshPending = true;
    TaskQuery query = m_query;
    // Everything loaded (and a page on its way) is read again, so rows never vanish from under the
    // user; a page at least, so that new rows appear in an empty or short list.
    query.limit = qMax(m_pageSize, int(m_rows.size()) + (m_fetchPending ? m_pageSize : 0));
    query.after.reset();
    const quint64 generation = m_generation;
    whenFinished(m_reader.tasks(query), this, [this, generation](const Expected<TaskPage> &page) {
        if (generation != m_generation)
            return;
        m_refreshPending = false;
        if (!page) {
            Q_EMIT readFailed(page.error().message);
        } else {
            applyRefresh(page->rows, page->hasMore);
            Q_EMIT refreshed();
        }
        if (m_refreshAgain) {
            m_refreshAgain = false;
            refresh();
        } else if (m_fetchWanted) {
            fetchMore({});
        }
    });
}

void TaskTableModel::applyRefresh(QList<TaskRow> fresh, bool hasMore)
{
    Q_EMIT aboutToApplyRefresh();
    ++m_listVersion;
    m_hasMore = hasMore;
    QHash<qint64, int> freshIndex;
    freshIndex.reserve(fresh.size());
    for (int i = 0; i < fresh.size(); ++i)
        freshIndex.insert(fresh.at(i).rowId, i);

    // 1. Rows that left the list (another state now, or pushed past the loaded window), in ranges.
    for (int last = int(m_rows.size()) - 1; last >= 0;) {
        if (freshIndex.contains(m_rows.at(last).rowId)) {
            --last;
            continue;
        }
        int first = last;
        while (first > 0 && !freshIndex.contains(m_rows.at(first - 1).rowId))
            --first;
        beginRemoveRows({}, first, last);
        m_rows.remove(first, last - first + 1);
        endRemoveRows();
        last = first - 1;
    }

    // 2. New rows. When the survivors kept their order (the usual case: new rows arrive at the top,
    // states change in place) each run of new rows is inserted where it belongs.
    QSet<qint64> present;
    present.reserve(m_rows.size());
    for (const TaskRow &row : std::as_const(m_rows))
        present.insert(row.rowId);
    bool sameOrder = true;
    {
        int next = 0;
        for (const TaskRow &row : std::as_const(fresh)) {
            if (!present.contains(row.rowId))
                continue;
            if (m_rows.at(next).rowId != row.rowId) {
                sameOrder = false;
                break;
            }
            ++next;
        }
    }
    if (sameOrder) {
        for (int i = 0; i < fresh.size();) {
            if (present.contains(fresh.at(i).rowId)) {
                ++i;
                continue;
            }
            int end = i;
            while (end + 1 < fresh.size() && !present.contains(fresh.at(end + 1).rowId))
                ++end;
            beginInsertRows({}, i, end);
            for (int j = i; j <= end; ++j)
                m_rows.insert(j, fresh.at(j));
            endInsertRows();
            i = end + 1;
        }
    } else {
        // A sort key changed (e.g. the state while sorted by state): add the new rows at the end,
        // then move every row to its place in one layout change that carries the selection along.
        QList<TaskRow> added;
        for (const TaskRow &row : std::as_const(fresh)) {
            if (!present.contains(row.rowId))
                added.append(row);
        }
        if (!added.isEmpty()) {
            const int first = int(m_rows.size());
            beginInsertRows({}, first, first + int(added.size()) - 1);
            m_rows.append(added);
            endInsertRows();
        }
        Q_EMIT layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
        const QModelIndexList from = persistentIndexList();
        QModelIndexList to;
        to.reserve(from.size());
        for (const QModelIndex &index : from) {
            const int newRow = freshIndex.value(m_rows.at(index.row()).rowId, -1);
            to.append(newRow < 0 ? QModelIndex() : createIndex(newRow, index.column()));
        }
        QList<TaskRow> reordered = fresh;
        m_rows.swap(reordered);
        changePersistentIndexList(from, to);
        Q_EMIT layoutChanged({}, QAbstractItemModel::VerticalSortHint);
    }

    // 3. Rows whose content changed, in ranges.
    m_rowById.clear();
    m_rowById.reserve(fresh.size());
    int changedFirst = -1;
    for (int i = 0; i <= fresh.size(); ++i) {
        const bool changed = i < fresh.size() && m_rows.at(i) != fresh.at(i);
        if (i < fresh.size()) {
            m_rows[i] = fresh.at(i); // the sort key may differ even when the shown content does not
            m_rowById.insert(fresh.at(i).rowId, i);
        }
        if (changed && changedFirst < 0)
            changedFirst = i;
        if (!changed && changedFirst >= 0) {
            Q_EMIT dataChanged(index(changedFirst, 0), index(i - 1, taskColumnCount - 1));
            changedFirst = -1;
        }
    }
}

} // namespace SiteRelay
