package dev.roster.server.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Roster logs through SLF4J only, so an application's backend receives every Roster line (decision L1).
 * The server's test class path holds the main classes of every module it is built from (core, embedded,
 * postgres, redis, library, testkit and the server itself): none of them may log through
 * {@code System.Logger} or {@code java.util.logging}.
 */
@AnalyzeClasses(packages = "dev.roster", importOptions = ImportOption.DoNotIncludeTests.class)
class LogsThroughSlf4jOnlyTest {
    @ArchTest
    static final ArchRule no_system_logger = noClasses()
            .that()
            .resideInAPackage("dev.roster..")
            .should()
            .dependOnClassesThat()
            .belongToAnyOf(System.Logger.class, System.Logger.Level.class, System.LoggerFinder.class)
            .because("Roster logs through SLF4J, the facade an application's backend receives (decision L1)");

    @ArchTest
    static final ArchRule no_java_util_logging = noClasses()
            .that()
            .resideInAPackage("dev.roster..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("java.util.logging..")
            .because("Roster logs through SLF4J, the facade an application's backend receives (decision L1)");
}
