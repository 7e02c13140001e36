#include <QTest>

// Placeholder while the unit is being written.
class TstStrictjsonvalidator : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void pending() { QSKIP("being written"); }
};

QTEST_GUILESS_MAIN(TstStrictjsonvalidator)
#include "tst_strictjsonvalidator.moc"
