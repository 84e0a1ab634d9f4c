package dev.roster.server.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The server holds HTTP, the command line and wiring; persistence lives in {@code roster-postgres}
 * behind the library's {@code RosterAdmin} and the core's {@code PoolStatus} (decision A1). So no main
 * class of the server touches JDBC, a {@code DataSource}, the connection pool or the driver, except
 * {@code SamplePool}: the demo's stand-in for another client writing plain SQL, which is what the tour
 * shows the capture triggers pick up (decision A2).
 */
@AnalyzeClasses(packages = "dev.roster.server", importOptions = ImportOption.DoNotIncludeTests.class)
class ServerHoldsNoSqlTest {
    /** The one class allowed to write SQL itself. */
    static final String DEMO_SQL_CLIENT = "dev.roster.server.cli.SamplePool";

    @ArchTest
    static final ArchRule no_sql_outside_the_demo_client = noClasses()
            .that()
            .resideInAPackage("dev.roster.server..")
            .and(com.tngtech.archunit.base.DescribedPredicate.not(
                    JavaClass.Predicates.belongToAnyOf(classOf(DEMO_SQL_CLIENT))))
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("java.sql..", "javax.sql..", "com.zaxxer.hikari..", "org.postgresql..")
            .because("SQL belongs in roster-postgres; the server reaches it through RosterAdmin (decision A1)");

    private static Class<?> classOf(String name) {
        try {
            return Class.forName(name);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(name + " is gone: update the rule", e);
        }
    }
}
