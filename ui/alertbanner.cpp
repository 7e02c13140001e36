#include "alertbanner.h"

#include "acknowledgealertdialog.h"
#include "backgroundreads.h"
#include "futurecallback.h"
#include "submissionstore.h"

#include <QApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QTreeWidget>
#include <QVBoxLayout>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

enum Column { PatientColumn, QuestionnaireColumn, MessageColumn, RaisedColumn, ColumnCount };
constexpr int AlertIdRole = Qt::UserRole;
constexpr int VisibleRows = 4;

} // namespace

AlertBanner::AlertBanner(SubmissionStore &store, QWidget *parent)
    : QFrame(parent)
    , m_store(store)
    , m_review(store)
{
    setObjectName(u"alertBanner"_s);
    setFrameShape(QFrame::StyledPanel);
    // Dark red with white text: high contrast for everyone, and the icon and words carry the
    // meaning for those who cannot tell red apart.
    setStyleSheet(u"#alertBanner { background: #8b1a1a; border: 2px solid #4a0000; border-radius: 4px; }"
                  u"#alertBanner QLabel { color: white; }"_s);

    auto *icon = new QLabel(this);
    icon->setObjectName(u"alertIcon"_s);
    icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(32, 32));
    icon->setAccessibleName(tr("Warning"));

    m_titleLabel = new QLabel(this);
    m_titleLabel->setObjectName(u"alertTitleLabel"_s);
    QFont bold = m_titleLabel->font();
    bold.setBold(true);
    bold.setPointSizeF(bold.pointSizeF() * 1.15);
    m_titleLabel->setFont(bold);

    m_list = new QTreeWidget(this);
    m_list->setObjectName(u"alertList"_s);
    m_list->setColumnCount(ColumnCount);
    m_list->setHeaderLabels({tr("Patient"), tr("Questionnaire"), tr("Alert"), tr("Raised")});
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->header()->setSectionResizeMode(MessageColumn, QHeaderView::Stretch);
    m_list->header()->setStretchLastSection(false);
    m_list->setToolTip(tr("Safety alerts no coordinator has acknowledged yet. Double-click to acknowledge."));
    connect(m_list, &QTreeWidget::itemActivated, this,
            [this](QTreeWidgetItem *item) { acknowledge(item->data(0, AlertIdRole).toLongLong()); });

    m_acknowledgeButton = new QPushButton(tr("&Acknowledge…"), this);
    m_acknowledgeButton->setObjectName(u"acknowledgeAlertButton"_s);
    m_acknowledgeButton->setToolTip(tr("Record that you have seen and acted on the selected alert."));
    connect(m_acknowledgeButton, &QPushButton::clicked, this, &AlertBanner::acknowledgeSelected);

    auto *header = new QHBoxLayout;
    header->addWidget(icon);
    header->addWidget(m_titleLabel, 1);
    header->addWidget(m_acknowledgeButton);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_list);

    m_refreshTimer.setSingleShot(true);
    connect(&m_refreshTimer, &QTimer::timeout, this, &AlertBanner::startRead);
    setVisible(false);
}

AlertBanner::~AlertBanner() = default;

void AlertBanner::refresh()
{
    if (m_reading) {
        m_readAgain = true;
        return;
    }
    if (m_refreshTimer.isActive())
        return;
    const qint64 wait = m_sinceRead.isValid() ? MinRefreshIntervalMs - m_sinceRead.elapsed() : 0;
    if (wait > 0)
        m_refreshTimer.start(int(wait));
    else
        startRead();
}

void AlertBanner::startRead()
{
    m_reading = true;
    m_sinceRead.start();
    whenFinished(BackgroundReads::alerts(m_store.databasePath(), AlertReader::Filter::Unacknowledged), this,
                 [this](const Expected<AlertsSnapshot> &snapshot) {
                     m_reading = false;
                     if (snapshot)
                         applySnapshot(*snapshot);
                     else
                         showReadError(snapshot.error().message);
                     Q_EMIT refreshed();
                     if (m_readAgain) {
                         m_readAgain = false;
                         refresh();
                     }
                 });
}

void AlertBanner::applySnapshot(const AlertsSnapshot &snapshot)
{
    const auto ids = [](const QList<AlertRecord> &alerts) {
        QList<qint64> list;
        for (const AlertRecord &alert : alerts)
            list.append(alert.id);
        return list;
    };
    // Open alerts only ever leave by acknowledgement, so the same ids mean the same rows.
    if (ids(snapshot.alerts) != ids(m_alerts)) {
        m_alerts = snapshot.alerts;
        rebuildList();
    }
    setCount(snapshot.unacknowledged);
}

void AlertBanner::showReadError(const QString &message)
{
    // Keep what is shown: a failed read must never make an alert disappear.
    setToolTip(tr("The alerts could not be read just now: %1").arg(message));
}

void AlertBanner::rebuildList()
{
    const qint64 selected = m_list->currentItem() ? m_list->currentItem()->data(0, AlertIdRole).toLongLong() : 0;
    m_list->clear();
    QTreeWidgetItem *current = nullptr;
    // Oldest first: the one waiting longest is at the top.
    for (auto it = m_alerts.crbegin(); it != m_alerts.crend(); ++it) {
        const AlertRecord &alert = *it;
        auto *item = new QTreeWidgetItem(m_list);
        item->setText(PatientColumn, alert.patientId);
        item->setText(QuestionnaireColumn, alert.questionnaireId.toUpper());
        item->setText(MessageColumn, u"[%1] %2"_s.arg(alert.severity.toUpper(), alert.message));
        item->setText(
            RaisedColumn,
            QDateTime::fromString(alert.raisedAt, Qt::ISODateWithMs).toLocalTime().toString(u"yyyy-MM-dd HH:mm"_s));
        item->setToolTip(MessageColumn, alert.message);
        item->setToolTip(RaisedColumn, alert.raisedAt);
        item->setData(0, AlertIdRole, alert.id);
        if (alert.id == selected)
            current = item;
    }
    if (!current && m_list->topLevelItemCount() > 0)
        current = m_list->topLevelItem(0);
    if (current)
        m_list->setCurrentItem(current);
    const int rows = qMin(qMax(1, m_list->topLevelItemCount()), VisibleRows);
    m_list->setFixedHeight(m_list->header()->sizeHint().height() + rows * m_list->sizeHintForRow(0) +
                           2 * m_list->frameWidth() + 2);
}

void AlertBanner::setCount(qint64 count)
{
    const bool changed = count != m_unacknowledged;
    m_unacknowledged = count;
    m_titleLabel->setText(count == 1 ? tr("Safety alert: 1 alert needs acknowledgement")
                                     : tr("Safety alert: %1 alerts need acknowledgement").arg(count));
    m_acknowledgeButton->setEnabled(!m_alerts.isEmpty());
    setVisible(count > 0);
    if (changed)
        Q_EMIT alertCountChanged(int(count));
}

void AlertBanner::removeAlert(qint64 alertId)
{
    for (qsizetype i = 0; i < m_alerts.size(); ++i) {
        if (m_alerts[i].id == alertId) {
            m_alerts.removeAt(i);
            rebuildList();
            setCount(qMax<qint64>(0, m_unacknowledged - 1));
            return;
        }
    }
}

void AlertBanner::acknowledgeSelected()
{
    const QTreeWidgetItem *item = m_list->currentItem() ? m_list->currentItem() : m_list->topLevelItem(0);
    if (item)
        acknowledge(item->data(0, AlertIdRole).toLongLong());
}

bool AlertBanner::acknowledge(qint64 alertId)
{
    const auto it = std::find_if(m_alerts.cbegin(), m_alerts.cend(),
                                 [alertId](const AlertRecord &alert) { return alert.id == alertId; });
    if (it == m_alerts.cend())
        return false;
    if (m_dialog) {
        m_dialog->raise();
        m_dialog->activateWindow();
        return m_dialog->alertId() == alertId;
    }
    m_dialog = new AcknowledgeAlertDialog(m_review, *it, this);
    m_dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_dialog, &AcknowledgeAlertDialog::acknowledged, this, [this](const AlertRecord &alert) {
        removeAlert(alert.id);
        Q_EMIT alertAcknowledged(alert.id);
    });
    // Whatever happened (acknowledged here, or by someone else meanwhile), read the truth again.
    connect(m_dialog, &QDialog::finished, this, [this] {
        m_dialog = nullptr;
        refresh();
    });
    m_dialog->open();
    Q_EMIT acknowledgeDialogOpened(m_dialog);
    return true;
}

} // namespace SiteRelay
