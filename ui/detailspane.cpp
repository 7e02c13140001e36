#include "detailspane.h"

#include "questionnairecatalog.h"
#include "scoretrendchart.h"
#include "statestyle.h"

#include <QDateTime>
#include <QDesktopServices>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

QString localTime(const QString &iso)
{
    if (iso.isEmpty())
        return QString();
    const QDateTime time = QDateTime::fromString(iso, Qt::ISODateWithMs);
    return time.isValid() ? time.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_s) : iso;
}

QTreeWidget *makeTree(const QString &objectName, const QStringList &headers, QWidget *parent)
{
    auto *tree = new QTreeWidget(parent);
    tree->setObjectName(objectName);
    tree->setHeaderLabels(headers);
    tree->setRootIsDecorated(false);
    tree->setAlternatingRowColors(true);
    tree->setUniformRowHeights(true);
    tree->setWordWrap(false);
    tree->header()->setStretchLastSection(true);
    return tree;
}

bool sameContent(const SubmissionDetails &a, const SubmissionDetails &b)
{
    return a.row == b.row && a.updatedAt == b.updatedAt && a.reportPath == b.reportPath &&
           a.attempts.size() == b.attempts.size() && a.audit.size() == b.audit.size() &&
           a.alerts.size() == b.alerts.size() && a.patientHistory.size() == b.patientHistory.size() &&
           a.reviewedAt == b.reviewedAt &&
           std::equal(a.alerts.cbegin(), a.alerts.cend(), b.alerts.cbegin(), b.alerts.cend(),
                      [](const AlertEntry &x, const AlertEntry &y) { return x.acknowledgedAt == y.acknowledgedAt; });
}

} // namespace

DetailsPane::DetailsPane(const QuestionnaireCatalog *catalog, QWidget *parent)
    : QWidget(parent)
    , m_catalog(catalog)
{
    setObjectName(u"detailsPane"_s);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(4, 4, 4, 4);
    m_placeholder = new QLabel(this);
    m_placeholder->setObjectName(u"detailsPlaceholder"_s);
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);
    outer->addWidget(m_placeholder);

    m_content = new QWidget(this);
    auto *layout = new QVBoxLayout(m_content);
    layout->setContentsMargins(0, 0, 0, 0);
    m_title = new QLabel(m_content);
    m_title->setObjectName(u"detailsTitleLabel"_s);
    m_title->setTextFormat(Qt::RichText);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_title);
    m_facts = new QLabel(m_content);
    m_facts->setObjectName(u"detailsFactsLabel"_s);
    m_facts->setTextFormat(Qt::RichText);
    m_facts->setWordWrap(true);
    m_facts->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_facts);
    m_openReport = new QPushButton(tr("Open PDF report"), m_content);
    m_openReport->setObjectName(u"openReportButton"_s);
    m_openReport->setIcon(QIcon::fromTheme(u"application-pdf"_s));
    m_openReport->setToolTip(tr("Open the one-page report in the system's PDF viewer (Ctrl+O)"));
    connect(m_openReport, &QPushButton::clicked, this, &DetailsPane::openReport);
    auto *buttonRow = new QHBoxLayout;
    buttonRow->addWidget(m_openReport);
    buttonRow->addStretch(1);
    layout->addLayout(buttonRow);

    m_splitter = new QSplitter(Qt::Vertical, m_content);
    m_splitter->setObjectName(u"detailsSplitter"_s);
    m_splitter->setChildrenCollapsible(false);
    m_tabs = new QTabWidget(m_splitter);
    m_tabs->setObjectName(u"detailsTabs"_s);
    m_answers = makeTree(u"answersView"_s, {tr("Item"), tr("Answer"), tr("Question")}, m_tabs);
    m_attempts =
        makeTree(u"attemptsView"_s,
                 {tr("#"), tr("Started"), tr("Ended"), tr("Outcome"), tr("Stage reached"), tr("Error")}, m_tabs);
    m_attempts->setRootIsDecorated(true);
    m_alerts = makeTree(u"alertsView"_s, {tr("Severity"), tr("Raised"), tr("Acknowledged"), tr("Message")}, m_tabs);
    m_audit = makeTree(u"auditView"_s, {tr("When"), tr("Who"), tr("What"), tr("State"), tr("Detail")}, m_tabs);
    m_tabs->addTab(m_answers, tr("Answers"));
    m_tabs->addTab(m_attempts, tr("Attempts"));
    m_tabs->addTab(m_alerts, tr("Alerts"));
    m_tabs->addTab(m_audit, tr("Audit trail"));
    m_tabs->setTabToolTip(0, tr("The answers as sent, with each question's wording"));
    m_tabs->setTabToolTip(1, tr("Every processing attempt, its stage timings and error"));
    m_tabs->setTabToolTip(2, tr("Safety alerts raised by the answers and who acknowledged them"));
    m_tabs->setTabToolTip(3, tr("Every change of this submission's state: when, who and why"));
    m_trend = new ScoreTrendChart(m_splitter);
    m_splitter->addWidget(m_tabs);
    m_splitter->addWidget(m_trend);
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 1);
    layout->addWidget(m_splitter, 1);
    outer->addWidget(m_content, 1);

    m_opener = [](const QString &path) { return QDesktopServices::openUrl(QUrl::fromLocalFile(path)); };
    clear();
}

void DetailsPane::clear(const QString &message)
{
    m_shown = false;
    m_details = SubmissionDetails{};
    m_placeholder->setText(message.isEmpty() ? tr("Select a task to see its answers, attempts and audit trail.")
                                             : message);
    m_placeholder->show();
    m_content->hide();
}

void DetailsPane::setDetails(const SubmissionDetails &details)
{
    if (m_shown && details.row.submissionId == m_details.row.submissionId && sameContent(details, m_details))
        return;
    m_details = details;
    m_shown = true;
    m_placeholder->hide();
    m_content->show();
    const TaskRow &row = details.row;
    const Questionnaire *questionnaire = m_catalog ? m_catalog->find(row.questionnaireId) : nullptr;
    const QString title = questionnaire ? questionnaire->title : row.questionnaireId;
    m_title->setText(u"<b>%1</b> · %2 · <span style=\"background:%3\">&nbsp;%4&nbsp;</span>"_s.arg(
        row.patientId.toHtmlEscaped(), title.toHtmlEscaped(), StateStyle::tint(row.state).name(),
        StateStyle::label(row.state)));

    QStringList facts;
    facts << tr("Submission: %1").arg(row.submissionId);
    facts << tr("Trial: %1").arg(row.trialId.toHtmlEscaped());
    facts << tr("Device: %1")
                 .arg((row.deviceName.isEmpty() ? u"#%1"_s.arg(row.deviceId) : row.deviceName).toHtmlEscaped());
    facts << tr("Completed: %1").arg(localTime(details.completedAt));
    facts << tr("Received: %1").arg(localTime(row.receivedAt));
    if (!details.processedAt.isEmpty())
        facts << tr("Processed: %1").arg(localTime(details.processedAt));
    if (row.scoreTotal) {
        const QJsonObject band = details.score.value("band"_L1).toObject();
        const int maxTotal = details.score.value("maxTotal"_L1).toInt(questionnaire ? questionnaire->scoring.max : 0);
        facts << tr("<b>Score: %1 of %2 · %3</b>")
                     .arg(*row.scoreTotal)
                     .arg(maxTotal)
                     .arg(band.value("label"_L1).toString(row.scoreBand).toHtmlEscaped());
    } else {
        facts << tr("Score: not scored yet");
    }
    if (!row.reviewState.isEmpty())
        facts << tr("Review: %1 by %2 at %3")
                     .arg(row.reviewState, details.reviewedBy.toHtmlEscaped(), localTime(details.reviewedAt));
    if (!row.lastError.isEmpty())
        facts << u"<span style=\"color:#D55E00\">"_s + tr("Last error: %1").arg(row.lastError.toHtmlEscaped()) +
                     u"</span>"_s;
    if (!row.nextAttemptAt.isEmpty())
        facts << tr("Next attempt: %1").arg(localTime(row.nextAttemptAt));
    m_facts->setText(facts.join(u"<br>"_s));

    m_openReport->setEnabled(!details.reportPath.isEmpty());
    m_openReport->setToolTip(details.reportPath.isEmpty()
                                 ? tr("No report yet: it is written when processing succeeds")
                                 : tr("Open %1 in the system's PDF viewer (Ctrl+O)").arg(details.reportPath));
    fillAnswers();
    fillAttempts();
    fillAlerts();
    fillAudit();
    m_tabs->setTabText(2, details.alerts.isEmpty() ? tr("Alerts") : tr("Alerts (%1)").arg(details.alerts.size()));
    m_trend->setHistory(questionnaire, details.patientHistory, row.submissionId);
}

void DetailsPane::fillAnswers()
{
    m_answers->clear();
    const Questionnaire *questionnaire = m_catalog ? m_catalog->find(m_details.row.questionnaireId) : nullptr;
    QStringList shown;
    if (questionnaire) {
        for (const QuestionnaireItem &item : questionnaire->items) {
            const QJsonValue value = m_details.answers.value(item.id);
            QString answer = tr("(not answered)");
            if (value.isDouble()) {
                const int v = value.toInt();
                const ResponseOption *option = item.option(v);
                answer = option ? u"%1 — %2"_s.arg(v).arg(option->label) : QString::number(v);
            }
            auto *entry = new QTreeWidgetItem(m_answers, {item.id, answer, item.text});
            entry->setToolTip(2, item.text);
            shown.append(item.id);
        }
    }
    // Anything the definition does not name (an older version of it) is still shown, as sent.
    for (auto it = m_details.answers.constBegin(); it != m_details.answers.constEnd(); ++it) {
        if (!shown.contains(it.key()))
            new QTreeWidgetItem(m_answers, {it.key(), it.value().toVariant().toString(), QString()});
    }
    m_answers->resizeColumnToContents(0);
    m_answers->resizeColumnToContents(1);
}

void DetailsPane::fillAttempts()
{
    m_attempts->clear();
    for (const AttemptInfo &attempt : std::as_const(m_details.attempts)) {
        auto *entry = new QTreeWidgetItem(m_attempts, {QString::number(attempt.number), localTime(attempt.startedAt),
                                                       localTime(attempt.endedAt),
                                                       attempt.outcome.isEmpty() ? tr("running") : attempt.outcome,
                                                       attempt.stageReached, attempt.error});
        entry->setToolTip(5, attempt.error);
        if (!attempt.error.isEmpty())
            entry->setForeground(5, QColor(0xD5, 0x5E, 0x00));
        for (auto it = attempt.stageDurationsMs.constBegin(); it != attempt.stageDurationsMs.constEnd(); ++it) {
            new QTreeWidgetItem(entry,
                                {QString(), tr("%1: %2 ms").arg(it.key()).arg(it.value().toDouble(), 0, 'f', 0)});
        }
        entry->setExpanded(true);
    }
    for (int c = 0; c < 5; ++c)
        m_attempts->resizeColumnToContents(c);
}

void DetailsPane::fillAlerts()
{
    m_alerts->clear();
    for (const AlertEntry &alert : std::as_const(m_details.alerts)) {
        const bool acknowledged = !alert.acknowledgedAt.isEmpty();
        const QString ack =
            acknowledged ? tr("%1 by %2").arg(localTime(alert.acknowledgedAt), alert.acknowledgedBy) : tr("not yet");
        auto *entry = new QTreeWidgetItem(m_alerts, {alert.severity, localTime(alert.raisedAt), ack, alert.message});
        entry->setIcon(0, StateStyle::alertIcon(alert.severity, acknowledged));
        entry->setToolTip(3, alert.acknowledgeNote.isEmpty()
                                 ? alert.message
                                 : alert.message + u"\n"_s + tr("Note: %1").arg(alert.acknowledgeNote));
    }
    for (int c = 0; c < 3; ++c)
        m_alerts->resizeColumnToContents(c);
}

void DetailsPane::fillAudit()
{
    m_audit->clear();
    for (const AuditEntry &entry : std::as_const(m_details.audit)) {
        const QString change = entry.oldState.isEmpty() && entry.newState.isEmpty()
                                   ? QString()
                                   : u"%1 → %2"_s.arg(entry.oldState.isEmpty() ? u"–"_s : entry.oldState,
                                                      entry.newState.isEmpty() ? u"–"_s : entry.newState);
        auto *item =
            new QTreeWidgetItem(m_audit, {localTime(entry.at), entry.actor, entry.action, change, entry.detail});
        item->setToolTip(4, entry.detail);
    }
    for (int c = 0; c < 4; ++c)
        m_audit->resizeColumnToContents(c);
}

void DetailsPane::openReport()
{
    if (m_shown && !m_details.reportPath.isEmpty() && m_opener)
        m_opener(m_details.reportPath);
}

} // namespace SiteRelay
