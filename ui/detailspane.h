#pragma once

#include "dashboardreader.h"

#include <QWidget>

#include <functional>

class QLabel;
class QPushButton;
class QSplitter;
class QTabWidget;
class QTreeWidget;

namespace SiteRelay {

class QuestionnaireCatalog;
class ScoreTrendChart;

/**
 * Everything about the selected submission: who and what, the answers with the questions' wording,
 * the score, every attempt with its stage timings and error, the safety alerts, the audit trail,
 * the PDF report (opened in the system viewer) and the patient's scores over time. It only shows
 * what the DashboardReader read; it reads nothing itself. GUI thread only.
 */
class DetailsPane final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetailsPane)
public:
    DetailsPane(const QuestionnaireCatalog *catalog, QWidget *parent = nullptr);

    /// Shows @p details; a second call with the same content changes nothing (lists keep their scroll).
    void setDetails(const SubmissionDetails &details);
    /// Shows the "nothing selected" hint, or @p message (e.g. several rows selected).
    void clear(const QString &message = {});
    /// The submission shown, or empty.
    QString submissionId() const { return m_shown ? m_details.row.submissionId : QString(); }
    QString reportPath() const { return m_shown ? m_details.reportPath : QString(); }
    /// How the report is opened; the default asks the desktop (QDesktopServices). For tests.
    void setReportOpener(std::function<bool(const QString &path)> opener) { m_opener = std::move(opener); }
    QSplitter *splitter() const { return m_splitter; }

public Q_SLOTS:
    void openReport();

private:
    void fillAnswers();
    void fillAttempts();
    void fillAlerts();
    void fillAudit();

    const QuestionnaireCatalog *m_catalog = nullptr;
    SubmissionDetails m_details;
    bool m_shown = false;
    std::function<bool(const QString &)> m_opener;
    QLabel *m_placeholder = nullptr;
    QWidget *m_content = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_facts = nullptr;
    QPushButton *m_openReport = nullptr;
    QSplitter *m_splitter = nullptr;
    QTabWidget *m_tabs = nullptr;
    QTreeWidget *m_answers = nullptr;
    QTreeWidget *m_attempts = nullptr;
    QTreeWidget *m_alerts = nullptr;
    QTreeWidget *m_audit = nullptr;
    ScoreTrendChart *m_trend = nullptr;
};

} // namespace SiteRelay
