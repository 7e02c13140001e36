#include "statuswindow.h"

#include <QFormLayout>
#include <QWidget>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

StatusWindow::StatusWindow(const QString &listenUrl, const QString &dataDir, QWidget *parent)
    : QMainWindow(parent)
{
    setObjectName(u"statusWindow"_s);
    setWindowTitle(u"SiteRelay"_s);
    auto *central = new QWidget(this);
    auto *form = new QFormLayout(central);
    auto *urlLabel = new QLabel(listenUrl, central);
    urlLabel->setObjectName(u"listenUrlLabel"_s);
    urlLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *dataLabel = new QLabel(dataDir, central);
    dataLabel->setObjectName(u"dataDirLabel"_s);
    dataLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_committedLabel = new QLabel(u"0"_s, central);
    m_committedLabel->setObjectName(u"committedWritesLabel"_s);
    form->addRow(tr("Listening on:"), urlLabel);
    form->addRow(tr("Data folder:"), dataLabel);
    form->addRow(tr("Writes committed since start:"), m_committedLabel);
    setCentralWidget(central);
    resize(560, 160);
}

void StatusWindow::addCommittedWrites(int writes)
{
    m_committed += writes;
    m_committedLabel->setText(QString::number(m_committed));
}

} // namespace SiteRelay
