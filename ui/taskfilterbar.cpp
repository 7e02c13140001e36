#include "taskfilterbar.h"

#include "statestyle.h"

#include <QButtonGroup>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QTimer>
#include <QToolButton>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

QString buttonText(const QString &state, qint64 count)
{
    const QString label = state.isEmpty() ? QObject::tr("All") : StateStyle::label(state);
    return u"%1 (%2)"_s.arg(label).arg(count);
}

QString objectNameFor(const QString &state)
{
    if (state.isEmpty())
        return u"filterAllButton"_s;
    QString name = u"filter"_s;
    for (const QString &part : state.split(u'_')) {
        name += part.left(1).toUpper() + part.mid(1);
    }
    return name + u"Button"_s;
}

} // namespace

TaskFilterBar::TaskFilterBar(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(u"taskFilterBar"_s);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    m_group = new QButtonGroup(this);
    m_group->setExclusive(true);
    QStringList states = StateStyle::states();
    states.append(QString()); // All, last as in the list
    int shortcut = 1;
    for (const QString &state : std::as_const(states)) {
        auto *button = new QToolButton(this);
        button->setObjectName(objectNameFor(state));
        button->setCheckable(true);
        button->setAutoRaise(true);
        button->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        if (!state.isEmpty())
            button->setIcon(StateStyle::icon(state));
        button->setText(buttonText(state, 0));
        const QString what = state.isEmpty()
                                 ? tr("Show every task")
                                 : tr("Show only tasks that are %1: %2")
                                       .arg(StateStyle::label(state).toLower(), StateStyle::description(state));
        button->setShortcut(QKeySequence(u"Alt+%1"_s.arg(shortcut)));
        button->setToolTip(u"%1 (%2)"_s.arg(what, button->shortcut().toString(QKeySequence::NativeText)));
        ++shortcut;
        m_group->addButton(button);
        m_buttons.insert(state, button);
        layout->addWidget(button);
        connect(button, &QToolButton::toggled, this, [this, state](bool on) {
            if (on)
                Q_EMIT stateChosen(state);
        });
    }
    layout->addStretch(1);
    m_search = new QLineEdit(this);
    m_search->setObjectName(u"searchBox"_s);
    m_search->setPlaceholderText(tr("Search patient, submission or device"));
    m_search->setToolTip(tr("Shows tasks whose patient ID, submission ID or device name contains this text (Ctrl+F)"));
    m_search->setClearButtonEnabled(true);
    m_search->setMinimumWidth(260);
    layout->addWidget(m_search);
    m_searchDebounce = new QTimer(this);
    m_searchDebounce->setSingleShot(true);
    m_searchDebounce->setInterval(250);
    connect(m_search, &QLineEdit::textEdited, m_searchDebounce, qOverload<>(&QTimer::start));
    connect(m_search, &QLineEdit::textChanged, this, [this](const QString &text) {
        if (text.isEmpty()) // the clear button: at once
            Q_EMIT searchChanged(text);
    });
    connect(m_search, &QLineEdit::returnPressed, this, [this] {
        m_searchDebounce->stop();
        Q_EMIT searchChanged(m_search->text());
    });
    connect(m_searchDebounce, &QTimer::timeout, this, [this] { Q_EMIT searchChanged(m_search->text()); });
    m_buttons.value(QString())->setChecked(true);
}

void TaskFilterBar::setCounts(const QHash<QString, qint64> &counts, qint64 total)
{
    for (auto it = m_buttons.cbegin(); it != m_buttons.cend(); ++it)
        it.value()->setText(buttonText(it.key(), it.key().isEmpty() ? total : counts.value(it.key())));
}

void TaskFilterBar::chooseState(const QString &state)
{
    if (QAbstractButton *b = m_buttons.value(state))
        b->setChecked(true);
}

QString TaskFilterBar::chosenState() const
{
    for (auto it = m_buttons.cbegin(); it != m_buttons.cend(); ++it) {
        if (it.value()->isChecked())
            return it.key();
    }
    return {};
}

QAbstractButton *TaskFilterBar::button(const QString &state) const
{
    return m_buttons.value(state);
}

} // namespace SiteRelay
