#pragma once

#include <QHash>
#include <QWidget>

class QAbstractButton;
class QButtonGroup;
class QLineEdit;
class QTimer;

namespace SiteRelay {

/**
 * The state filters with their live counts (All, Pending … Cancelled; one checked at a time) and
 * the search box (patient ID, submission ID or device). Typing is debounced so a search is not run
 * per keystroke. GUI thread only.
 */
class TaskFilterBar final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TaskFilterBar)
public:
    explicit TaskFilterBar(QWidget *parent = nullptr);

    /// Counts per state; the All filter shows @p total.
    void setCounts(const QHash<QString, qint64> &counts, qint64 total);
    /// Checks the filter for @p state (empty: All) and emits stateChosen.
    void chooseState(const QString &state);
    QString chosenState() const;
    QLineEdit *searchBox() const { return m_search; }
    /// The filter button of @p state (empty: All).
    QAbstractButton *button(const QString &state) const;

Q_SIGNALS:
    void stateChosen(const QString &state);
    /// The search text, once typing paused (or at once on Return).
    void searchChanged(const QString &text);

private:
    QButtonGroup *m_group = nullptr;
    QHash<QString, QAbstractButton *> m_buttons;
    QLineEdit *m_search = nullptr;
    QTimer *m_searchDebounce = nullptr;
};

} // namespace SiteRelay
