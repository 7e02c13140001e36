#include <QTest>

// Placeholder while the unit is being written.
class TstQuestionnairescorer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void pending() { QSKIP("being written"); }
};

QTEST_GUILESS_MAIN(TstQuestionnairescorer)
#include "tst_questionnairescorer.moc"
