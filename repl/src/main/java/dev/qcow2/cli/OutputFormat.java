package dev.qcow2.cli;

/** qemu-img's {@code --output=human|json}. */
public enum OutputFormat {
    human, json;

    /** picocli converter that names the accepted values in its error, as qemu-img does. */
    static final class Converter implements picocli.CommandLine.ITypeConverter<OutputFormat> {
        @Override
        public OutputFormat convert(String value) {
            try {
                return OutputFormat.valueOf(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException("--output must be used with human or json as argument.");
            }
        }
    }
}
