#pragma once

#include "dashboardreader.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QList>

namespace SiteRelay {

class QuestionnaireCatalog;

/**
 * The task list: one row per submission, read in pages from the DashboardReader with keyset
 * pagination (canFetchMore/fetchMore), so a million rows open as fast as two hundred. Every read is
 * asynchronous; the model applies results on the GUI thread as row insertions, removals, moves and
 * data changes, never a reset, so selections and the view's position survive a refresh.
 *
 * Filter, search or sort changes reset the model and load the first page again.
 * GUI thread only. The reader must outlive the model.
 */
class TaskTableModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TaskTableModel)
public:
    enum Role {
        SubmissionIdRole = Qt::UserRole + 1,
        StateRole,
        RowIdRole,
        SortValueRole,
    };

    TaskTableModel(DashboardReader &reader, const QuestionnaireCatalog *catalog, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    void setStateFilter(const QString &state);
    QString stateFilter() const { return m_query.state; }
    void setSearchText(const QString &text);
    QString searchText() const { return m_query.search; }
    /// Rows per page (default 200); applies from the next read.
    void setPageSize(int rows);
    int pageSize() const { return m_pageSize; }

    /// Reads the loaded rows again (and any new ones before them); refreshed() when applied.
    void refresh();
    /// Whether a refresh, reload or page read is on its way.
    bool isBusy() const { return m_refreshPending || m_fetchPending; }

    const TaskRow &rowAt(int row) const { return m_rows.at(row); }
    /// The row showing @p submissionId, or -1 when it is not loaded.
    int rowOf(const QString &submissionId) const;

Q_SIGNALS:
    /// A refresh or (re)load was applied to the rows.
    void refreshed();
    /// About to change rows because of a refresh (the view may remember its position).
    void aboutToApplyRefresh();
    /// A read failed; the message says what and why.
    void readFailed(const QString &message);

private:
    void reload();
    void applyRefresh(QList<TaskRow> fresh, bool hasMore);
    void appendPage(const QList<TaskRow> &rows, bool hasMore);
    QString scoreText(const TaskRow &row) const;
    QString bandLabel(const TaskRow &row) const;

    DashboardReader &m_reader;
    const QuestionnaireCatalog *m_catalog = nullptr;
    TaskQuery m_query;
    int m_pageSize = 200;
    QList<TaskRow> m_rows;
    QHash<qint64, int> m_rowById;
    bool m_hasMore = false;
    quint64 m_generation = 0;  ///< bumped by filter/sort changes: older answers are dropped
    quint64 m_listVersion = 0; ///< bumped by every applied refresh: a page read against an older list is dropped
    bool m_refreshPending = false;
    bool m_refreshAgain = false;
    bool m_fetchPending = false;
    bool m_fetchWanted = false;
};

} // namespace SiteRelay
