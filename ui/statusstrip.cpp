#include "statusstrip.h"

#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

StatusStrip::StatusStrip(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(u"statusStrip"_s);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(6, 2, 6, 2);
    layout->setSpacing(6);
    m_listen = addField(u"listenUrlLabel"_s, tr("Where tablets send their submissions"));
    m_listen->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_tls = addField(u"tlsLabel"_s, tr("Whether the connection from tablets is encrypted"));
    m_devices = addField(u"devicesSeenLabel"_s, tr("Devices that sent anything in the last 5 minutes"));
    m_rate = addField(u"ingestRateLabel"_s, tr("Submissions received in the last minute"));
    m_workers = addField(u"workersLabel"_s, tr("Processing workers busy, of the maximum"));
    m_database = addField(u"databaseSizeLabel"_s, tr("Size of the database file with its write-ahead log"));
    m_alerts = addField(u"unacknowledgedAlertsLabel"_s, tr("Safety alerts no coordinator has acknowledged yet"));
    m_error = new QLabel(this);
    m_error->setObjectName(u"statusErrorLabel"_s);
    m_error->setStyleSheet(u"color: #D55E00;"_s);
    m_error->hide();
    layout->addWidget(m_error);
    layout->addStretch(1);
    setListening({}, false);
    setSummary({});
    setWorkers(0, 0, false);
}

QLabel *StatusStrip::addField(const QString &objectName, const QString &toolTip)
{
    auto *layout = static_cast<QHBoxLayout *>(this->layout());
    if (layout->count() > 0) {
        auto *separator = new QFrame(this);
        separator->setFrameShape(QFrame::VLine);
        separator->setFrameShadow(QFrame::Sunken);
        layout->addWidget(separator);
    }
    auto *label = new QLabel(this);
    label->setObjectName(objectName);
    label->setToolTip(toolTip);
    layout->addWidget(label);
    return label;
}

QString StatusStrip::formatBytes(qint64 bytes)
{
    return QLocale::system().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

void StatusStrip::setListening(const QStringList &urls, bool tls)
{
    m_listen->setText(urls.isEmpty() ? tr("Not listening") : tr("Listening on %1").arg(urls.join(u", "_s)));
    m_tls->setText(tls ? tr("TLS on") : tr("TLS off"));
}

void StatusStrip::setSummary(const DashboardSummary &summary)
{
    m_error->hide();
    m_devices->setText(tr("Devices (5 min): %1").arg(summary.devicesSeenRecently));
    m_rate->setText(tr("Ingest: %1/min").arg(summary.receivedLastMinute));
    m_database->setText(tr("Database: %1").arg(formatBytes(summary.databaseBytes)));
    if (summary.unacknowledgedAlerts > 0) {
        m_alerts->setText(tr("⚠ Alerts not acknowledged: %1").arg(summary.unacknowledgedAlerts));
        m_alerts->setStyleSheet(u"QLabel { background: #D55E00; color: white; font-weight: bold; padding: 0 4px; }"_s);
    } else {
        m_alerts->setText(tr("Alerts not acknowledged: 0"));
        m_alerts->setStyleSheet(QString());
    }
}

void StatusStrip::setWorkers(int busy, int max, bool enabled)
{
    m_workers->setText(enabled ? tr("Workers: %1/%2").arg(busy).arg(max) : tr("Processing off"));
}

void StatusStrip::setReadError(const QString &message)
{
    m_error->setText(tr("Figures not current: %1").arg(message));
    m_error->setToolTip(message);
    m_error->show();
}

} // namespace SiteRelay
